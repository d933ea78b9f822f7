/* Compiled as strict C99 by the build: synod.h must stay valid C. */
#include "synod.h"

int synod_header_is_c99(void) { return SYNOD_VERSION_NUMBER > 0 && SYNOD_OK == 0; }
