# devices/: see Makefile for the variables this appends to.

LIB_SRCS += devices/bus.c devices/uart16550.c devices/debugexit.c devices/port80.c \
            devices/pic8259.c devices/pit8254.c

UNIT_TESTS += devices_bus_test devices_uart16550_test devices_debugexit_test \
              devices_port80_test devices_pic8259_test \
              devices_pit8254_test
