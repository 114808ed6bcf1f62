/*
 * openat2.h: openat2(2) (Linux 5.6) for the folder store and the tree
 * walk, also where the C library's headers lack it (musl, and the static
 * build's musl-gcc, hide the kernel's linux/openat2.h): the ABI is fixed.
 * Where SYS_openat2 stays undefined, callers walk folder by folder.
 */
#ifndef XT_OPENAT2_H
#define XT_OPENAT2_H

#include <stdint.h>
#include <sys/syscall.h>

#if defined(__linux__) && !defined(SYS_openat2) && !defined(__alpha__)
#define SYS_openat2 437
#endif

struct xt_open_how {
	uint64_t flags, mode, resolve;
};
#define XT_RESOLVE_NO_MAGICLINKS 0x02
#define XT_RESOLVE_NO_SYMLINKS 0x04
#define XT_RESOLVE_BENEATH 0x08

#endif
