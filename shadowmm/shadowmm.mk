# shadowmm/: guest page walks, shadow mappings, traces on guest page tables.
# See Makefile for the variables this appends to.

LIB_SRCS += shadowmm/walk.c shadowmm/shadow.c

UNIT_TESTS += shadowmm_walk_test
