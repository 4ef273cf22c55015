# runtime/: entry/exit stubs, callouts, signal handling, the dispatcher.
LIB_SRCS += runtime/entry.S runtime/signals.c runtime/dispatch.c
