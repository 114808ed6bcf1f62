#!/usr/bin/perl
# The issue-2 tree of the put/get benchmarks (b-putget.sh, b-azure.sh):
# N small files of 4 to 16 KB in folders of 100 (small/dNN/eN/fNNNNN.dat),
# then NBIG files of BIGMB MiB (big/largeJ.bin), random bytes.
#   perl bench/gentree.pl DIR N NBIG BIGMB
use strict;
use warnings;
@ARGV == 4 or die "usage: gentree.pl DIR N NBIG BIGMB\n";
my ($dir, $n, $nbig, $bigmb) = @ARGV;
srand(2);
open(my $r, "<", "/dev/urandom") or die "/dev/urandom: $!\n";
binmode $r;
my $buf;
for my $i (0 .. $n - 1) {
	my $d = sprintf("%s/small/d%02d/e%d", $dir, $i / 1000, ($i / 100) % 10);
	if ($i % 100 == 0) { system("mkdir", "-p", $d) == 0 or die "mkdir $d\n" }
	my $size = 4096 + int(rand(12289));
	read($r, $buf, $size) == $size or die "read: $!\n";
	open(my $f, ">", sprintf("%s/f%05d.dat", $d, $i)) or die "$d: $!\n";
	binmode $f;
	print $f $buf or die "write: $!\n";
	close($f) or die "close: $!\n";
}
mkdir("$dir/big");
for my $j (0 .. $nbig - 1) {
	open(my $f, ">", "$dir/big/large$j.bin") or die "$dir/big: $!\n";
	binmode $f;
	for (1 .. $bigmb) {
		read($r, $buf, 1 << 20) == 1 << 20 or die "read: $!\n";
		print $f $buf or die "write: $!\n";
	}
	close($f) or die "close: $!\n";
}
