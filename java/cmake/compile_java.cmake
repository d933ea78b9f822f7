# cmake -P compile_java.cmake: compiles every .java file below SOURCE_DIRS into a fresh
# CLASSES_DIR and, with JAR set, packs the classes (plus NATIVE_FILES, copied into
# CLASSES_DIR/NATIVE_DIR under their NATIVE_NAMES) into that jar. A script rather than
# add_jar(): the sources include files generated at build time whose names the status
# table decides, and the jar must carry native libraries built by other targets.
#
# Variables: JAVAC, JAR_TOOL, SOURCE_DIRS (;-list), CLASSPATH (:-list, may be empty),
# CLASSES_DIR, and optionally JAR, NATIVE_DIR, NATIVE_FILES, NATIVE_NAMES (;-lists of the
# same length).
cmake_minimum_required(VERSION 3.25)

foreach(var JAVAC CLASSES_DIR SOURCE_DIRS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_java.cmake: ${var} is not set")
  endif()
endforeach()

set(sources)
foreach(dir IN LISTS SOURCE_DIRS)
  file(GLOB_RECURSE found "${dir}/*.java")
  list(APPEND sources ${found})
endforeach()
if(NOT sources)
  message(FATAL_ERROR "compile_java.cmake: no .java file below ${SOURCE_DIRS}")
endif()

file(REMOVE_RECURSE "${CLASSES_DIR}")
file(MAKE_DIRECTORY "${CLASSES_DIR}")
set(classpath_args)
if(CLASSPATH)
  set(classpath_args -classpath "${CLASSPATH}")
endif()
# --release 17: class files for Java 17 whichever JDK compiles them.
execute_process(
  COMMAND "${JAVAC}" --release 17 -encoding UTF-8 -Xlint:all -Werror
          ${classpath_args} -d "${CLASSES_DIR}" ${sources}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "compile_java.cmake: javac failed (${status})")
endif()

if(DEFINED JAR)
  if(NATIVE_FILES)
    file(MAKE_DIRECTORY "${CLASSES_DIR}/${NATIVE_DIR}")
    foreach(file name IN ZIP_LISTS NATIVE_FILES NATIVE_NAMES)
      # COPY_FILE copies the bytes a symlink points at, under the name the loader expects.
      file(COPY_FILE "${file}" "${CLASSES_DIR}/${NATIVE_DIR}/${name}")
    endforeach()
  endif()
  file(REMOVE "${JAR}")
  execute_process(COMMAND "${JAR_TOOL}" --create --file "${JAR}" -C "${CLASSES_DIR}" .
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "compile_java.cmake: jar failed (${status})")
  endif()
endif()
