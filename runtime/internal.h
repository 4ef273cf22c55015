/* runtime/internal.h: state shared between the dispatcher and the signal handlers. */
#ifndef BT_RUNTIME_INTERNAL_H
#define BT_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

/* The runtime whose translated code this thread runs (for signal handlers). */
extern __thread struct runtime *runtime_current;

#endif
