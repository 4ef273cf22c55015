/* translator/decode.c: the Zydis wrapper that decodes 32-bit protected-mode guest code. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "translator/translator.h"

static ZydisDecoder decoder;
static pthread_once_t decoder_once = PTHREAD_ONCE_INIT;

static void decoder_init(void)
{
	/* Stack width 32: the guest's SS is a 32-bit (B=1) segment.  A 16-bit
	 * stack segment would need its own decoder and is not supported yet. */
	ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	/* The guest's CPUID has no MPX and no CET (monitor/cpuid.c, leaf 7 is
	 * zero), and on such a CPU 0F 1A/0F 1B and the CET forms of 0F 1E are
	 * hint NOPs (SDM vol. 1 17.5 and vol. 2 NOP: "0F 18-1F reserved NOP"),
	 * while 0F 38 F6 without a prefix (WRSSD) is #UD.  Zydis decodes MPX and
	 * CET by default: BNDLDX with BND4 or 16-bit addressing would be #UD and
	 * WRSSD valid (tests/decoders/crosscheck found both). */
	ZydisDecoderEnableMode(&decoder, ZYDIS_DECODER_MODE_MPX, ZYAN_FALSE);
	ZydisDecoderEnableMode(&decoder, ZYDIS_DECODER_MODE_CET, ZYAN_FALSE);
}

int translator_decode(const uint8_t *code, size_t len, uint32_t eip,
		      struct translator_insn *out)
{
	pthread_once(&decoder_once, decoder_init);
	ZyanStatus st = ZydisDecoderDecodeFull(&decoder, code, len, &out->zi, out->ops);
	if (st == ZYDIS_STATUS_NO_MORE_DATA)
		return len >= ZYDIS_MAX_INSTRUCTION_LENGTH ? -EINVAL : -EAGAIN;
	/* More than 15 bytes (redundant prefixes): #GP(0), not #UD (SDM vol. 2,
	 * 2.3.11 "Instruction Length"). */
	if (st == ZYDIS_STATUS_INSTRUCTION_TOO_LONG)
		return -E2BIG;
	if (!ZYAN_SUCCESS(st))
		return -EINVAL;
	out->eip = eip;
	memcpy(out->bytes, code, out->zi.length);
	return 0;
}
