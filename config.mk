# Build settings. Override on the command line: make CC=clang PREFIX=/opt/xt
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
DESTDIR =

CC = cc
PKGS = libcurl yaml-0.1 libcjson libmongoc-1.0 libssh2
# libcurl is loaded at run time, only by a download (lib/http.c): linking
# it would cost every start of xt-get its 30 libraries' loading time.
# libmongoc likewise, only when a MongoDB index is used (lib/mongodl.h):
# linked, it would initialize itself in every process of every tool.
CPPFLAGS = -D_GNU_SOURCE -DXT_CURL_DLOPEN -DXT_MONGO_DLOPEN -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter
LDFLAGS = -Wl,--as-needed
LDLIBS = -lbearssl $(shell pkg-config --libs $(filter-out libcurl libmongoc-1.0,$(PKGS)) 2>/dev/null) -lm -lpthread -ldl
# the tests' helpers that call libmongoc themselves (tests/helper/mongo-dump.c)
MONGO_LINK = $(shell pkg-config --libs libmongoc-1.0 2>/dev/null)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The version: the file VERSION, and in a git checkout "+" and the commit
# as git describe names it (a tree without git, or git absent, builds too).
VERSION := $(shell cat VERSION 2>/dev/null || echo 0)$(shell test -e .git && git describe --always --dirty 2>/dev/null | sed 's/^/+/')
