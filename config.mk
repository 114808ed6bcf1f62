# Build settings. Override on the command line: make CC=clang PREFIX=/opt/xt
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
DESTDIR =

CC = cc
PKGS = libcurl yaml-0.1 libcjson libmongoc-1.0 libssh2
# libcurl is loaded at run time, only by a download (lib/http.c): linking
# it would cost every start of xt-get its 30 libraries' loading time.
CPPFLAGS = -D_GNU_SOURCE -DXT_CURL_DLOPEN -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter
LDFLAGS = -Wl,--as-needed
LDLIBS = -lbearssl $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) -lm -lpthread -ldl
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
