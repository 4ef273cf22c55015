# bt/: see Makefile for the variables this appends to.
BT_SRCS    += bt/main.c bt/vm.c
LIB_SRCS   += bt/options.c bt/console.c
UNIT_TESTS += bt_options_test bt_console_test
