// The library version.
#include "synod.h"

extern "C" {

#define SYNOD_STRINGIFY_(x) #x
#define SYNOD_STRINGIFY(x) SYNOD_STRINGIFY_(x)

SYNOD_API const char* synod_version(void) {
  return SYNOD_STRINGIFY(SYNOD_VERSION_MAJOR) "." SYNOD_STRINGIFY(
      SYNOD_VERSION_MINOR) "." SYNOD_STRINGIFY(SYNOD_VERSION_PATCH);
}

SYNOD_API int synod_version_number(void) { return SYNOD_VERSION_NUMBER; }

}  // extern "C"
