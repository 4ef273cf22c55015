# translator/: decoder, instruction classes, emitter, rewrites.
LIB_SRCS += translator/decode.c translator/classify.c translator/emit.c \
	    translator/translate.c translator/ident.c translator/stack.c \
	    translator/branch.c translator/system.c
UNIT_TESTS += translator_classify_test translator_emit_test translator_modes_test
