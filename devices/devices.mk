# devices/: see Makefile for the variables this appends to.

LIB_SRCS += devices/bus.c devices/uart16550.c devices/debugexit.c devices/port80.c \
            devices/pic8259.c devices/pit8254.c devices/rtc146818.c devices/i8042.c \
            devices/port92.c devices/pci.c devices/acpi.c

UNIT_TESTS += devices_bus_test devices_uart16550_test devices_debugexit_test \
              devices_port80_test devices_pic8259_test devices_pit8254_test \
              devices_rtc146818_test devices_i8042_test devices_port92_test \
              devices_pci_test devices_acpi_test
