/* Ending a test: isa-debug-exit on port 0xF4, then halt forever if the port is missing. */
#include "guest.h"

void guest_exit(int code)
{
	outb(GUEST_EXIT_PORT, (uint8_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}
