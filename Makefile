# xt: experiment tools. See README.
include config.mk

TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIBSRC = $(wildcard lib/*.c)
LIBHDR = $(wildcard lib/*.h)
UNITS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/u-*.c))
MAN = $(wildcard man/*.1 man/*.7)
FUZZ = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/f-*.c))
# drivers of lib/ for the shell tests (tests/helper), not tools
HELPERS = $(patsubst tests/helper/%.c,%,$(wildcard tests/helper/*.c))

# O is the output folder: build/ normally, build-san/ with the sanitizers.
O = build
LIBOBJ = $(patsubst lib/%.c,$(O)/obj/%.o,$(LIBSRC))
BINS = $(addprefix $(O)/bin/,$(TOOLS))
UNITBINS = $(addprefix $(O)/unit/,$(UNITS))
FUZZBINS = $(addprefix $(O)/fuzz/,$(FUZZ))
HELPERBINS = $(addprefix $(O)/helper/,$(HELPERS))
# The fuzz targets' main: this driver runs them over files (the corpus
# regression of tests/t0010); make fuzz links libFuzzer's instead.
FUZZMAIN = tests/fuzz/main.c

all: deps $(BINS) $(UNITBINS) $(FUZZBINS) $(HELPERBINS)

deps:
	@scripts/deps.sh build

$(O)/obj/%.o: lib/%.c $(LIBHDR) config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(VERSION_FLAGS) $(CFLAGS) -c -o $@ $<

# lib/version.c gets the version (config.mk); $(O)/version changes when it
# does, so that a new commit rebuilds version.o and nothing else
$(O)/obj/version.o: $(O)/version
$(O)/obj/version.o: VERSION_FLAGS = -DXT_VERSION='"$(VERSION)"'
$(O)/version: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
FORCE:

$(O)/libxt.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $(LIBOBJ)

$(O)/bin/%: cmd/%.c $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(O)/libxt.a $(LDFLAGS) $(LDLIBS)

$(O)/unit/%: tests/unit/%.c tests/unit/check.h $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(O)/libxt.a $(LDFLAGS) $(LDLIBS)

$(O)/helper/%: tests/helper/%.c $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(O)/libxt.a $(LDFLAGS) $(LDLIBS) $(HELPER_LINK)
$(O)/helper/mongo-dump: HELPER_LINK = $(MONGO_LINK)
$(O)/helper/mongo-one: HELPER_LINK = $(MONGO_LINK)

$(O)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZMAIN) $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) -o $@ $< $(FUZZMAIN) $(O)/libxt.a $(LDFLAGS) $(LDLIBS)

san:
	@$(MAKE) --no-print-directory O=build-san CFLAGS="$(CFLAGS) $(SANFLAGS)" \
	    LDFLAGS="$(LDFLAGS) $(SANFLAGS)" $(addprefix build-san/bin/,$(TOOLS)) \
	    $(addprefix build-san/unit/,$(UNITS)) $(addprefix build-san/fuzz/,$(FUZZ)) \
	    $(addprefix build-san/helper/,$(HELPERS))

# make fuzz [FUZZ_TIME=seconds]: each fuzz target of tests/fuzz, built with
# clang's libFuzzer, ASan and UBSan into build-fuzz/, runs FUZZ_TIME seconds
# from its corpus in tests/fuzz/corpus; it stops at the first crash.
FUZZ_TIME = 180
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz:
	@scripts/deps.sh build fuzz
	@$(MAKE) --no-print-directory O=build-fuzz CC=clang FUZZMAIN= \
	    CFLAGS="$(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    LDFLAGS="$(LDFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer" \
	    $(addprefix build-fuzz/fuzz/,$(FUZZ))
	@tests/fuzz/run.sh build-fuzz $(FUZZ_TIME) $(FUZZ)

check:
	@scripts/deps.sh build check static
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory san
	@$(MAKE) --no-print-directory static
	@tests/run.sh build build-san build-static

# One build only, quicker while working: make test [T=t1010]
test: all
	@tests/run.sh build

demo:
	@scripts/deps.sh build demo
	@echo "building xt (make all) ..."
	@$(MAKE) --no-print-directory -s all
	@scripts/demo.sh build/bin

bench:
	@scripts/deps.sh build bench static
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory static
	@bench/run.sh build/bin

lint:
	@scripts/deps.sh check
	mandoc -T lint -W warning $(MAN)

install: all
	@$(MAKE) --no-print-directory install-files

clean:
	rm -rf build build-san build-static build-fuzz

.PHONY: FORCE all deps san fuzz check test demo bench lint install clean

# make static: every tool as a fully static x86-64 binary (musl), stripped,
# into build-static/bin. The libraries come from scripts/static-deps.sh,
# which builds them from Debian's source packages into a cache outside the
# tree (it prints the prefix). CA_BUNDLE is embedded as the last resort of
# lib/ca.c. make install-static and make dist install or pack these.
SO = build-static
CA_BUNDLE = /etc/ssl/certs/ca-certificates.crt
STATIC_PCS = libcurl libcjson libssh2 libmongoc-static-1.0
STATIC_PC = PKG_CONFIG_LIBDIR=$(SP)/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --static
STATIC_VARS = O=$(SO) CC=musl-gcc \
	CPPFLAGS='-D_GNU_SOURCE -Ilib -DXT_CA_EMBED=\"$(CA_BUNDLE)\" -DXT_STATIC_BUILD $(shell $(STATIC_PC) --cflags $(STATIC_PCS))' \
	CFLAGS='-std=c11 -O2 -Wall -Wextra -Wno-unused-parameter -ffunction-sections -fdata-sections' \
	LDFLAGS='-static -s -Wl,--gc-sections' \
	LDLIBS='$(shell $(STATIC_PC) --libs $(STATIC_PCS)) -lyaml -lm' MONGO_LINK=

static:
	@scripts/deps.sh static
	@sp=$$(scripts/static-deps.sh) && \
	    if [ "$$(cat $(SO)/prefix 2>/dev/null)" != "$$sp" ]; then \
	        rm -rf $(SO) && mkdir -p $(SO) && echo "$$sp" >$(SO)/prefix; fi && \
	    $(MAKE) --no-print-directory static-bins SP="$$sp"

# (used by static, with SP set to the prefix of the libraries)
static-bins:
	@test -n "$(SP)"
	@$(MAKE) --no-print-directory $(STATIC_VARS) $(addprefix $(SO)/bin/,$(TOOLS))
	@cd $(SO)/bin && for f in $(TOOLS); do printf '%-12s %9d bytes\n' $$f $$(stat -c %s $$f); done

install-static: static
	@$(MAKE) --no-print-directory install-files BINS="$(addprefix $(SO)/bin/,$(TOOLS))"

install-files:
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(BINS) $(DESTDIR)$(PREFIX)/bin/
	cp -f man/*.1 $(DESTDIR)$(MANPREFIX)/man1/
	cp -f man/*.7 $(DESTDIR)$(MANPREFIX)/man7/

# a tarball of the static tools and the man pages: build-static/xt-VERSION-x86_64-linux.tar.gz
dist: static
	@rm -rf $(SO)/dist && mkdir -p $(SO)/dist
	@$(MAKE) --no-print-directory install-files BINS="$(addprefix $(SO)/bin/,$(TOOLS))" \
	    DESTDIR=$(CURDIR)/$(SO)/dist/xt-$(VERSION)-x86_64-linux PREFIX= MANPREFIX=/man >/dev/null
	tar -C $(SO)/dist -czf $(SO)/xt-$(VERSION)-x86_64-linux.tar.gz xt-$(VERSION)-x86_64-linux
	@echo $(SO)/xt-$(VERSION)-x86_64-linux.tar.gz

.PHONY: static static-bins install-static install-files dist
.SECONDARY:
