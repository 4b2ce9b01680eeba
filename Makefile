# snitch - build, test, demo.  See README.md.
#
#   make            build ./snitch (release, -O2)
#   make demo       install missing Debian packages, build, run the demo
#   make test       unit tests (plain and ASan+UBSan), integration and
#                   conformance tests, fuzzing; ends with "N passed, N failed"
#   make bench      benchmarks (bench/*), slow, not part of test
#   make fuzz       build the libFuzzer targets (clang)

CC       ?= cc
BUILD    ?= build/rel
OPT      ?= -O2 -g
SANFLAGS ?=
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
             -Wno-unused-parameter -Isrc $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS_ALL = -lpcap -lpsl -lcrypto -lopenblas -lpthread -lm $(LDLIBS)

LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBA     := $(BUILD)/libsnitch.a

.PHONY: all lib tests demo test test-unit test-san bench fuzz deps clean install
all: snitch

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/snitch: $(CLI_OBJ) $(LIBA)
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) tests/unit/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(LIBA) $(LDLIBS_ALL)

snitch: $(BUILD)/snitch
	cp $(BUILD)/snitch snitch

lib: $(LIBA)
tests: $(TEST_BIN) $(BUILD)/snitch

deps:
	@sh scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory snitch
	@sh scripts/demo.sh

# The sanitizer build of everything, in its own tree.
SAN_MAKE = $(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g -fno-omit-frame-pointer" \
           SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"

test: deps
	@$(MAKE) --no-print-directory snitch tests
	@$(SAN_MAKE) tests
	@$(MAKE) --no-print-directory fuzz
	@sh tests/run.sh

test-unit: tests
	@sh tests/run.sh --unit-only

fuzz:
	@$(MAKE) --no-print-directory -f fuzz/Makefile

bench: deps snitch
	@sh bench/extract/run.sh

install: snitch
	install -D -m 755 snitch $(DESTDIR)$(or $(PREFIX),/usr/local)/bin/snitch

clean:
	rm -rf build snitch

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
