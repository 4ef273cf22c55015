# tcache/: translation cache, lookup, chaining, indirect-branch table.
LIB_SRCS += tcache/tcache.c tcache/ibl.c
UNIT_TESTS += tcache_tcache_test
