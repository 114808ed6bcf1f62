# xt: experiment tools. See README.
include config.mk

TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIBSRC = $(wildcard lib/*.c)
LIBHDR = $(wildcard lib/*.h)
UNITS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/u-*.c))
MAN = $(wildcard man/*.1 man/*.7)

# O is the output folder: build/ normally, build-san/ with the sanitizers.
O = build
LIBOBJ = $(patsubst lib/%.c,$(O)/obj/%.o,$(LIBSRC))
BINS = $(addprefix $(O)/bin/,$(TOOLS))
UNITBINS = $(addprefix $(O)/unit/,$(UNITS))

all: deps $(BINS) $(UNITBINS)

deps:
	@scripts/deps.sh build

$(O)/obj/%.o: lib/%.c $(LIBHDR) config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/libxt.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $(LIBOBJ)

$(O)/bin/%: cmd/%.c $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(O)/libxt.a $(LDFLAGS) $(LDLIBS)

$(O)/unit/%: tests/unit/%.c tests/unit/check.h $(O)/libxt.a $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(O)/libxt.a $(LDFLAGS) $(LDLIBS)

san:
	@$(MAKE) --no-print-directory O=build-san CFLAGS="$(CFLAGS) $(SANFLAGS)" \
	    LDFLAGS="$(LDFLAGS) $(SANFLAGS)" $(addprefix build-san/bin/,$(TOOLS)) \
	    $(addprefix build-san/unit/,$(UNITS))

check:
	@scripts/deps.sh build check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory san
	@tests/run.sh build build-san

# One build only, quicker while working: make test [T=t1010]
test: all
	@tests/run.sh build

demo:
	@scripts/deps.sh build demo
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh build/bin

bench:
	@scripts/deps.sh build bench
	@$(MAKE) --no-print-directory all
	@bench/run.sh build/bin

lint:
	@scripts/deps.sh check
	mandoc -T lint -W warning $(MAN)

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(BINS) $(DESTDIR)$(PREFIX)/bin/
	cp -f man/*.1 $(DESTDIR)$(MANPREFIX)/man1/
	cp -f man/*.7 $(DESTDIR)$(MANPREFIX)/man7/

clean:
	rm -rf build build-san

.PHONY: all deps san check test demo bench lint install clean
.SECONDARY:
