# synod_target_warnings(<target>)
#
# Turns on the project's warning set, as errors, for one of our own targets.
# The flags are PRIVATE: they never leak into targets that link against <target>,
# and third-party headers (found as system includes) stay exempt.
include_guard(GLOBAL)

function(synod_target_warnings target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "synod_target_warnings: '${target}' is not a target")
  endif()
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    # Nothing is compiled for an interface library.
    return()
  endif()
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /WX)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  endif()
endfunction()
