# Build settings. Override on the command line: make CC=clang PREFIX=/opt/xt
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
DESTDIR =

CC = cc
PKGS = libcurl yaml-0.1 libcjson libmongoc-1.0 libssh2
CPPFLAGS = -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter
LDFLAGS = -Wl,--as-needed
LDLIBS = -lbearssl $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
