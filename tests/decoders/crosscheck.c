/* tests/decoders/crosscheck.c: Zydis, as bt configures it (translator_decode), against
 * Capstone on seeded random byte strings and on files of instruction hex lines.
 *
 * For each byte string both decoders decode one instruction in 32-bit protected
 * mode; they must agree on validity, length and the visible operands (kind,
 * register, memory base/index/scale/displacement/segment, immediate, size where
 * both report one).  A disagreement is named by a key, "CHECK MAP:OPCODE
 * ZYDIS-MNEMONIC/CAPSTONE-MNEMONIC PREFIXES" (CHECK: only-zydis, only-capstone,
 * length, opcount Z/C, kind, reg, mem-base and the like, imm, size opN); keys that match a pattern of the
 * known-differences file are counted under that class, the others are listed
 * and make the exit status 1.
 *
 * Usage: crosscheck [--seed N] [--count N] [--known FILE] [--examples N] [HEXFILE...]
 * A HEXFILE holds one instruction per line as hex bytes ("0f 01 d8", spaces
 * optional); '#' starts a comment.  --count N random strings (default 1,000,000, about
 * 2 s; --count 10000000 for a deeper run), 0 for none; --seed N picks another set. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "translator/translator.h"

/* Where the strings are decoded: relative branch targets are compared as
 * absolute addresses computed from it by both decoders. */
#define BASE_EIP 0x00401000u
#define MAX_KEYS 4096
#define MAX_CLASSES 256
#define MAX_OPS 8

/* ---- seeded, reproducible random strings (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng_next();
}

/* A string biased towards valid instructions: up to three legacy prefixes, an
 * opcode map escape (none, 0F, 0F 38, 0F 3A; sometimes VEX with the ModRM-like
 * byte's top bits 11 that makes C4/C5 VEX rather than LES/LDS in 32-bit mode),
 * then random opcode, ModRM, SIB and displacement/immediate bytes. */
static void fill_biased(uint8_t *b, size_t n)
{
	static const uint8_t prefixes[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36,
					    0x3e, 0x26, 0x64, 0x65 };
	size_t i = 0;
	fill_random(b, n);
	uint64_t r = rng_next();
	for (unsigned np = r % 4; np > 0; np--) {
		r >>= 4;
		b[i++] = prefixes[(r & 0xff) % sizeof(prefixes)];
	}
	r = rng_next();
	switch (r % 8) {
	case 0: case 1: case 2: /* one-byte map: already random */
		break;
	case 3: case 4:
		b[i++] = 0x0f;
		break;
	case 5:
		b[i++] = 0x0f, b[i++] = 0x38;
		break;
	case 6:
		b[i++] = 0x0f, b[i++] = 0x3a;
		break;
	case 7:
		b[i] = (r & 0x100) ? 0xc4 : 0xc5;
		b[i + 1] |= 0xc0;
		break;
	}
}

/* ---- a decoder-neutral view of one instruction ---- */

enum okind { OK_REG, OK_MEM, OK_IMM };

struct nop {
	enum okind kind;
	char reg[16];
	char seg[8], base[16], index[16];
	int scale;
	uint64_t disp, imm;
	unsigned size; /* bits, 0 if not reported */
	unsigned imm_bits; /* immediates: the width they are compared in */
	bool agen; /* LEA's address: no access, so no segment */
};

struct ninsn {
	bool valid;
	unsigned length;
	char mnem[32];
	char text[224];
	unsigned nops;
	struct nop ops[MAX_OPS];
	unsigned nhidden; /* Zydis's hidden operands (string instructions) */
	struct nop hidden[MAX_OPS];
	unsigned addr_bits, opnd_bits;
};

static csh cs;
static ZydisFormatter fmt;

static void lower_copy(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = 0;
}

static uint64_t mask_bits(uint64_t v, unsigned bits)
{
	return bits >= 64 || bits == 0 ? v : v & ((1ull << bits) - 1);
}

static void zreg(char *dst, size_t n, ZydisRegister r)
{
	lower_copy(dst, n, r == ZYDIS_REGISTER_NONE ? "" : ZydisRegisterGetString(r));
}

static void decode_zydis(const uint8_t *b, size_t n, struct ninsn *o)
{
	struct translator_insn in;
	memset(o, 0, sizeof(*o));
	if (translator_decode(b, n, BASE_EIP, &in) != 0)
		return;
	o->valid = true;
	o->length = in.zi.length;
	o->addr_bits = in.zi.address_width;
	o->opnd_bits = in.zi.operand_width;
	lower_copy(o->mnem, sizeof(o->mnem), ZydisMnemonicGetString(in.zi.mnemonic));
	ZydisFormatterFormatInstruction(&fmt, &in.zi, in.ops, in.zi.operand_count_visible,
					o->text, sizeof(o->text), BASE_EIP, NULL);
	/* Visible operands only (explicit and implicit, the ones an Intel-syntax
	 * listing shows): Zydis lists them first and appends hidden ones (EFLAGS,
	 * the stack pointer of PUSH, ...) that Capstone does not list at all. */
	for (unsigned i = 0; i < in.zi.operand_count && o->nops < MAX_OPS; i++) {
		const ZydisDecodedOperand *zo = &in.ops[i];
		bool hidden = i >= in.zi.operand_count_visible;
		if (hidden && o->nhidden == MAX_OPS)
			break;
		struct nop *p = hidden ? &o->hidden[o->nhidden++] : &o->ops[o->nops++];
		p->size = zo->size;
		switch (zo->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			p->kind = OK_REG;
			zreg(p->reg, sizeof(p->reg), zo->reg.value);
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			p->kind = OK_MEM;
			zreg(p->seg, sizeof(p->seg), zo->mem.segment);
			zreg(p->base, sizeof(p->base), zo->mem.base);
			zreg(p->index, sizeof(p->index), zo->mem.index);
			p->scale = zo->mem.scale;
			p->disp = mask_bits((uint64_t)zo->mem.disp.value, o->addr_bits);
			p->agen = zo->mem.type == ZYDIS_MEMOP_TYPE_AGEN;
			break;
		case ZYDIS_OPERAND_TYPE_POINTER:
			/* A far pointer (JMP/CALL ptr16:32) is one operand to Zydis and
			 * two immediates, selector then offset, to Capstone: the same
			 * encoded fields, split differently. */
			p->kind = OK_IMM;
			p->imm = zo->ptr.segment;
			p->size = 0;
			if (o->nops < MAX_OPS) {
				p = &o->ops[o->nops++];
				p->kind = OK_IMM;
				p->imm = zo->ptr.offset;
			}
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			p->kind = OK_IMM;
			if (zo->imm.is_relative) {
				/* Capstone reports the target; Zydis the displacement. */
				ZyanU64 abs = 0;
				ZydisCalcAbsoluteAddress(&in.zi, zo, BASE_EIP, &abs);
				p->imm = mask_bits(abs, 32);
				p->size = 0;
			} else {
				/* Zydis's size is the encoded field's (8 for an imm8 that
				 * is sign-extended to 32 bits), Capstone's the operation's:
				 * compare a signed immediate in the operation's width and
				 * an unsigned one (INT, ENTER's level, I/O port) in its
				 * field's, where Capstone may have sign-extended it. */
				p->imm_bits = zo->imm.is_signed ? o->opnd_bits : zo->size;
				p->imm = mask_bits(zo->imm.value.u, p->imm_bits);
			}
			p->size = 0;
			break;
		default:
			if (hidden)
				o->nhidden--;
			else
				o->nops--;
			break;
		}
	}
}

static void creg(char *dst, size_t n, unsigned r)
{
	const char *s = r == X86_REG_INVALID ? "" : cs_reg_name(cs, r);
	/* Capstone spells x87 registers st(i), Zydis sti: a spelling, not an
	 * operand difference. */
	if (s && strncmp(s, "st(", 3) == 0 && s[3] && s[4] == ')') {
		snprintf(dst, n, "st%c", s[3]);
		return;
	}
	lower_copy(dst, n, s);
}

static bool bare_ptr(const char *s)
{
	static const char *const sizes[] = { "byte ", "word ", "dword ", "qword ", "tbyte ",
					     "fword ", "xmmword ", "ymmword ", "zmmword ", "xword " };
	for (const char *p = strstr(s, "ptr "); p; p = strstr(p + 1, "ptr ")) {
		bool sized = false;
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t l = strlen(sizes[k]);
			sized |= (size_t)(p - s) >= l && !strncmp(p - l, sizes[k], l);
		}
		if (!sized)
			return true;
	}
	return false;
}

static void decode_capstone(const uint8_t *b, size_t n, struct ninsn *o, unsigned zimm_bits[])
{
	cs_insn *ci;
	memset(o, 0, sizeof(*o));
	if (cs_disasm(cs, b, n, BASE_EIP, 1, &ci) != 1)
		return;
	o->valid = true;
	o->length = ci->size;
	/* Capstone's mnemonic carries prefixes ("rep movsd", "bnd jmp"): keep the
	 * instruction's own word. */
	const char *sp = strrchr(ci->mnemonic, ' ');
	lower_copy(o->mnem, sizeof(o->mnem), sp ? sp + 1 : ci->mnemonic);
	snprintf(o->text, sizeof(o->text), "%s %s", ci->mnemonic, ci->op_str);
	const cs_x86 *x = &ci->detail->x86;
	o->addr_bits = x->addr_size * 8;
	for (unsigned i = 0; i < x->op_count && i < MAX_OPS; i++) {
		const cs_x86_op *co = &x->operands[i];
		struct nop *p = &o->ops[o->nops++];
		p->size = co->size * 8;
		/* A bare "ptr" (LES's m16:32, LGDT's m16&32, ...): Capstone has no size
		 * for the operand and fills in the operand size; unknown, then. */
		if (co->type == X86_OP_MEM && bare_ptr(ci->op_str))
			p->size = 0;
		switch (co->type) {
		case X86_OP_REG:
			p->kind = OK_REG;
			creg(p->reg, sizeof(p->reg), co->reg);
			break;
		case X86_OP_MEM:
			p->kind = OK_MEM;
			creg(p->seg, sizeof(p->seg), co->mem.segment);
			creg(p->base, sizeof(p->base), co->mem.base);
			creg(p->index, sizeof(p->index), co->mem.index);
			p->scale = co->mem.scale;
			p->disp = mask_bits((uint64_t)co->mem.disp, o->addr_bits ? o->addr_bits : 32);
			break;
		case X86_OP_IMM:
			p->kind = OK_IMM;
			/* Capstone stores immediates sign-extended to 64 bits; Zydis
			 * per its operand size.  Compare within the Zydis width. */
			p->imm = mask_bits((uint64_t)co->imm, zimm_bits[i] ? zimm_bits[i] : 32);
			p->size = 0; /* see decode_zydis */
			break;
		default:
			o->nops--;
			break;
		}
	}
	cs_free(ci, 1);
}

/* ---- grouping: opcode map and opcode of a byte string, for the key ---- */

static void opcode_key(const uint8_t *b, size_t n, char *out, size_t on)
{
	size_t i = 0;
	while (i < n && strchr("\x66\x67\xf2\xf3\xf0\x2e\x36\x3e\x26\x64\x65", b[i]) && b[i])
		i++;
	if (i >= n) {
		snprintf(out, on, "prefixes");
		return;
	}
	const char *map = "1b";
	if (b[i] == 0x0f && i + 1 < n) {
		i++, map = "0f";
		if (b[i] == 0x38 && i + 1 < n)
			i++, map = "0f38";
		else if (b[i] == 0x3a && i + 1 < n)
			i++, map = "0f3a";
		else if (b[i] == 0x0f)
			map = "3dnow";
	} else if ((b[i] == 0xc4 || b[i] == 0xc5 || b[i] == 0x62 || b[i] == 0x8f) &&
		   i + 1 < n && (b[i + 1] & 0xc0) == 0xc0) {
		/* VEX/EVEX/XOP in 32-bit mode: only with mod = 11 in the next byte,
		 * else it is LES/LDS/BOUND/POP. */
		map = b[i] == 0xc5 ? "vex2" : b[i] == 0xc4 ? "vex3" : b[i] == 0x62 ? "evex" : "xop";
	}
	snprintf(out, on, "%s:%02x", map, b[i]);
}

/* ---- comparison ---- */

static const char *kind_name(enum okind k)
{
	return k == OK_REG ? "reg" : k == OK_MEM ? "mem" : "imm";
}

static const char *default_seg(const char *base)
{
	return !strcmp(base, "esp") || !strcmp(base, "ebp") || !strcmp(base, "bp") ? "ss" : "ds";
}

/* Writes what differs between operand i of z and c into why, or returns false. */
static bool op_differs(const struct ninsn *z, const struct ninsn *c, unsigned i, char *why,
		       size_t wn)
{
	const struct nop *a = &z->ops[i], *b = &c->ops[i];
	if (a->kind != b->kind) {
		snprintf(why, wn, "kind op%u %s/%s", i, kind_name(a->kind), kind_name(b->kind));
		return true;
	}
	switch (a->kind) {
	case OK_REG:
		if (strcmp(a->reg, b->reg)) {
			snprintf(why, wn, "reg op%u", i);
			return true;
		}
		break;
	case OK_MEM:
		if (strcmp(a->base, b->base)) {
			snprintf(why, wn, "mem-base op%u", i);
			return true;
		}
		if (strcmp(a->index, b->index)) {
			snprintf(why, wn, "mem-index op%u", i);
			return true;
		}
		/* With no index the scale means nothing: Zydis says 0, Capstone 1. */
		if (a->index[0] && a->scale != b->scale) {
			snprintf(why, wn, "mem-scale op%u", i);
			return true;
		}
		if (a->disp != b->disp) {
			snprintf(why, wn, "mem-disp op%u", i);
			return true;
		}
		/* Zydis always names the segment used (DS, or SS for an EBP or ESP
		 * base, when no prefix applies); Capstone names one only for an
		 * override (and ES of string destinations).  So Capstone's none
		 * must be Zydis's default.  LEA's address has no segment (SDM
		 * LEA: an override is ignored), so there is nothing to compare. */
		if (!a->agen && (b->seg[0] ? strcmp(a->seg, b->seg) != 0
					   : strcmp(a->seg, default_seg(a->base)) != 0)) {
			snprintf(why, wn, "mem-seg op%u", i);
			return true;
		}
		break;
	case OK_IMM:
		if (a->imm != b->imm) {
			snprintf(why, wn, "imm op%u", i);
			return true;
		}
		break;
	}
	/* A register's name fixes its width; Zydis's size of a register operand is
	 * what the instruction reads of it (32 for XMM4 of UCOMISS), Capstone's
	 * the register's: not comparable. */
	/* LEA's memory operand is an address, not an access: Zydis gives it the
	 * address size, Capstone the operand size. */
	if (a->kind != OK_REG && !a->agen && a->size && b->size && a->size != b->size) {
		snprintf(why, wn, "size op%u", i);
		return true;
	}
	return false;
}

static bool same_place(const struct nop *a, const struct nop *b)
{
	return a->kind == b->kind &&
	       (a->kind == OK_REG ? !strcmp(a->reg, b->reg) : a->kind == OK_MEM && !strcmp(a->base, b->base));
}

static void drop_st0(struct ninsn *d)
{
	unsigned k = 0;
	for (unsigned i = 0; i < d->nops; i++)
		if (d->ops[i].kind != OK_REG || strcmp(d->ops[i].reg, "st0"))
			d->ops[k++] = d->ops[i];
	d->nops = k;
}

/* Representation differences that are about which operands are listed, and in
 * what order, rather than what they are. */
static void normalize(struct ninsn *z, struct ninsn *c)
{
	static const char *const strops[] = { "movs", "cmps", "stos", "lods", "scas", "ins", "outs" };
	/* XCHG EAX, r32 and XCHG r32, EAX are the same encoding (90+rd, SDM
	 * XCHG): Zydis lists r32 first, Capstone EAX. */
	if (!strcmp(z->mnem, "xchg") && z->nops == 2 && c->nops == 2 && same_place(&z->ops[0], &c->ops[1]) &&
	    same_place(&z->ops[1], &c->ops[0])) {
		struct nop t = z->ops[0];
		z->ops[0] = z->ops[1];
		z->ops[1] = t;
	}
	/* x87 register forms: ST(0) is implied by most of them and each decoder
	 * lists it in different forms ("fdiv st0, st1" against "fdiv st(1)",
	 * "fstp st2" against "fstp st(2), st(0)"); the other register is the one
	 * encoded in ModRM, so compare without ST(0). */
	if (z->mnem[0] == 'f') {
		drop_st0(z);
		drop_st0(c);
	}
	/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS): their
	 * operands are all implicit; Zydis hides them, Capstone lists the memory
	 * operands and AL/AX/EAX or DX as an Intel listing would.  Compare
	 * Capstone's with the hidden operands of Zydis at the same places, so the
	 * segment (and address size: ESI or SI) still count. */
	bool strop = false;
	for (size_t k = 0; k < sizeof(strops) / sizeof(strops[0]); k++)
		strop |= !strncmp(z->mnem, strops[k], strlen(strops[k]));
	if (!strop || z->nops != 0 || c->nops > MAX_OPS)
		return;
	for (unsigned i = 0; i < c->nops; i++) {
		unsigned h = 0;
		while (h < z->nhidden && !same_place(&z->hidden[h], &c->ops[i]))
			h++;
		if (h == z->nhidden)
			return; /* not found: the operand counts still differ */
		z->ops[i] = z->hidden[h];
	}
	z->nops = c->nops;
}

/* Compares; on a disagreement writes the key and returns true. */
static bool compare(const uint8_t *buf, size_t n, struct ninsn *z, struct ninsn *c,
		    char *key, size_t kn)
{
	char opk[24], why[32] = "";
	opcode_key(buf, n, opk, sizeof(opk));
	if (!z->valid && !c->valid)
		return false;
	if (z->valid && c->valid)
		normalize(z, c);
	if (z->valid != c->valid)
		snprintf(why, sizeof(why), "%s", z->valid ? "only-zydis" : "only-capstone");
	else if (z->length != c->length)
		snprintf(why, sizeof(why), "length");
	else if (z->nops != c->nops)
		snprintf(why, sizeof(why), "opcount %u/%u", z->nops, c->nops);
	else
		for (unsigned i = 0; i < z->nops && !why[0]; i++)
			op_differs(z, c, i, why, sizeof(why));
	if (!why[0])
		return false;
	/* The prefixes that change what an opcode means, in a fixed order, for
	 * telling classes apart: "+66+f3", or "+" for none. */
	static const uint8_t mp[] = { 0x66, 0xf0, 0xf2, 0xf3 };
	char pfx[16] = "+";
	for (size_t k = 0; k < sizeof(mp); k++)
		for (size_t i = 0; i < n && strchr("\x66\x67\xf2\xf3\xf0\x2e\x36\x3e\x26\x64\x65", buf[i]) && buf[i]; i++)
			if (buf[i] == mp[k]) {
				snprintf(pfx + strlen(pfx), sizeof(pfx) - strlen(pfx), "%s%02x",
					 pfx[1] ? "+" : "", mp[k]);
				break;
			}
	snprintf(key, kn, "%s %s %s/%s %s", why, opk, z->valid ? z->mnem : "-",
		 c->valid ? c->mnem : "-", pfx);
	return true;
}

/* ---- known differences and the tally ---- */

struct kclass {
	char name[48];
	char pattern[160];
	unsigned long count;
};

static struct kclass classes[MAX_CLASSES];
static unsigned nclasses;

struct ukey {
	char key[128];
	unsigned long count;
	char example[1024];
};

static struct ukey ukeys[MAX_KEYS];
static unsigned nukeys;
static unsigned long unknown_total, unknown_dropped;

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Lines: "name | pattern | right: WHO | explanation"; '#' comments. */
static int load_known(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	if (!f) {
		fprintf(stderr, "crosscheck: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *bar1, *bar2;
		if (!*s || *s == '#')
			continue;
		if (!(bar1 = strchr(s, '|')) || !(bar2 = strchr(bar1 + 1, '|')) ||
		    nclasses == MAX_CLASSES) {
			fprintf(stderr, "crosscheck: %s: bad line: %s\n", path, s);
			fclose(f);
			return -1;
		}
		*bar1 = *bar2 = 0;
		struct kclass *k = &classes[nclasses++];
		snprintf(k->name, sizeof(k->name), "%s", trim(s));
		snprintf(k->pattern, sizeof(k->pattern), "%s", trim(bar1 + 1));
	}
	fclose(f);
	return 0;
}

/* One line per decoder's normalized operands, for the examples. */
static void describe(const struct ninsn *d, char *out, size_t on)
{
	size_t o = 0;
	out[0] = 0;
	for (unsigned i = 0; i < d->nops && o + 1 < on; i++) {
		const struct nop *p = &d->ops[i];
		if (p->kind == OK_REG)
			o += (size_t)snprintf(out + o, on - o, " reg:%s/%u", p->reg, p->size);
		else if (p->kind == OK_IMM)
			o += (size_t)snprintf(out + o, on - o, " imm:%#" PRIx64 "/%u", p->imm, p->size);
		else
			o += (size_t)snprintf(out + o, on - o, " mem:%s:[%s+%s*%d+%#" PRIx64 "]/%u",
					      p->seg, p->base, p->index, p->scale, p->disp, p->size);
	}
}

static void hexstr(const uint8_t *b, size_t n, char *out, size_t on)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 3 < on; i++)
		o += (size_t)snprintf(out + o, on - o, "%s%02x", i ? " " : "", b[i]);
}

static unsigned long tested, valid_both;

static void check(const uint8_t *buf, size_t n)
{
	struct ninsn z, c;
	char key[128];
	unsigned zimm_bits[MAX_OPS] = { 0 };
	tested++;
	decode_zydis(buf, n, &z);
	for (unsigned i = 0; i < z.nops; i++)
		zimm_bits[i] = z.ops[i].kind == OK_IMM ? (z.ops[i].imm_bits ? z.ops[i].imm_bits : 32) : 0;
	decode_capstone(buf, n, &c, zimm_bits);
	if (z.valid && c.valid)
		valid_both++;
	if (!compare(buf, n, &z, &c, key, sizeof(key)))
		return;
	for (unsigned k = 0; k < nclasses; k++)
		if (fnmatch(classes[k].pattern, key, 0) == 0) {
			classes[k].count++;
			return;
		}
	unknown_total++;
	for (unsigned k = 0; k < nukeys; k++)
		if (strcmp(ukeys[k].key, key) == 0) {
			ukeys[k].count++;
			return;
		}
	if (nukeys == MAX_KEYS) {
		unknown_dropped++;
		return;
	}
	struct ukey *u = &ukeys[nukeys++];
	char hex[64], zd[160], cd[160];
	describe(&z, zd, sizeof(zd));
	describe(&c, cd, sizeof(cd));
	size_t len = z.valid ? z.length : c.valid ? c.length : n;
	hexstr(buf, len > n ? n : len, hex, sizeof(hex));
	snprintf(u->key, sizeof(u->key), "%s", key);
	u->count = 1;
	snprintf(u->example, sizeof(u->example), "%s  zydis: %s  capstone: %s\n"
		 "          zydis:%s\n          capstone:%s", hex, z.valid ? z.text : "(invalid)",
		 c.valid ? c.text : "(invalid)", zd, cd);
}

static int check_hexfile(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned long lineno = 0;
	if (!f) {
		fprintf(stderr, "crosscheck: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
		size_t n = 0;
		int nib = -1;
		lineno++;
		for (char *s = line; *s && *s != '#'; s++) {
			if (isspace((unsigned char)*s))
				continue;
			if (!isxdigit((unsigned char)*s) || n == sizeof(buf)) {
				fprintf(stderr, "crosscheck: %s:%lu: not an instruction's hex bytes\n",
					path, lineno);
				fclose(f);
				return -1;
			}
			int v = isdigit((unsigned char)*s) ? *s - '0' : tolower(*s) - 'a' + 10;
			if (nib < 0) {
				nib = v;
			} else {
				buf[n++] = (uint8_t)(nib << 4 | v);
				nib = -1;
			}
		}
		if (n)
			check(buf, n);
	}
	fclose(f);
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct ukey *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0x6274dec0de5eedull;
	unsigned long count = 1000000;
	unsigned long examples = 200;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--count"))
			count = strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--examples"))
			examples = strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--known")) {
			if (load_known(argv[++i]) < 0)
				return 2;
		} else {
			fprintf(stderr, "usage: crosscheck [--seed N] [--count N] [--known FILE] "
					"[--examples N] [HEXFILE...]\n");
			return 2;
		}
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
		return 2;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);

	rng_state = seed;
	for (unsigned long k = 0; k < count; k++) {
		uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
		if (k % 3 == 0)
			fill_random(buf, sizeof(buf));
		else
			fill_biased(buf, sizeof(buf));
		check(buf, sizeof(buf));
	}
	unsigned long random_tested = tested;
	for (; i < argc; i++)
		if (check_hexfile(argv[i]) < 0)
			return 2;

	qsort(ukeys, nukeys, sizeof(ukeys[0]), by_count);
	for (unsigned k = 0; k < nukeys && k < examples; k++)
		printf("unknown %6lu  %s\n        e.g. %s\n", ukeys[k].count, ukeys[k].key,
		       ukeys[k].example);
	unsigned long known = 0;
	for (unsigned k = 0; k < nclasses; k++) {
		printf("known   %6lu  %s\n", classes[k].count, classes[k].name);
		known += classes[k].count;
	}
	printf("crosscheck: seed=0x%" PRIx64 " random=%lu files=%lu tested=%lu valid-by-both=%lu "
	       "known=%lu unknown=%lu (%u kinds%s)\n",
	       seed, random_tested, tested - random_tested, tested, valid_both, known,
	       unknown_total, nukeys, unknown_dropped ? ", more not kept" : "");
	cs_close(&cs);
	return unknown_total ? 1 : 0;
}
