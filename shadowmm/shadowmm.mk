# shadowmm/: guest page walks, shadow mappings, traces on guest page tables.
