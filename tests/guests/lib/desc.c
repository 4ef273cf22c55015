/* Building segment descriptors and gates, and editing the lib's GDT (SDM vol. 3, 3.4.5, 5.8.3, 6.11). */
#include "guest.h"

uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)(access & 0xFF) << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

uint64_t gate_desc(uint16_t sel, uint32_t offset, unsigned access, unsigned params)
{
	return (offset & 0xFFFF) | (uint32_t)sel << 16 | (uint64_t)(params & 0x1F) << 32 |
	       (uint64_t)(access & 0xFF) << 40 | (uint64_t)(offset >> 16) << 48;
}

void gdt_set(uint16_t sel, uint64_t desc)
{
	guest_gdt[sel >> 3] = desc;
}

uint64_t gdt_get(uint16_t sel)
{
	return guest_gdt[sel >> 3];
}
