# SignGateConfig.cmake -- find_package(SignGate [VERSION] [REQUIRED])
#
# Finds the signgate program: the cache variable SIGNGATE_EXECUTABLE when
# set (-DSIGNGATE_EXECUTABLE=/path/to/signgate), else the program installed
# with this package (<prefix>/bin/signgate), else signgate on PATH.
# Defines:
#   SIGNGATE_EXECUTABLE     the program (cache variable)
#   SignGate_VERSION        the package version
#   SignGate::signgate      an imported executable target
#   signgate_sign(TARGETS ... [FILES ...] [PROFILE name] [REV rev])
#   signgate_sign_packages([PROFILE name] [REV rev])      (CPack)
# See SignGate.cmake and docs/integration-cmake.md. Needs CMake 3.19.

if(CMAKE_VERSION VERSION_LESS 3.19)
  set(SignGate_FOUND FALSE)
  set(SignGate_NOT_FOUND_MESSAGE
      "SignGate needs CMake 3.19 or newer (CPACK_POST_BUILD_SCRIPTS, cmake_language(DEFER)); this is ${CMAKE_VERSION}")
  return()
endif()

get_filename_component(_signgate_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
find_program(SIGNGATE_EXECUTABLE NAMES signgate
             HINTS "${_signgate_prefix}/bin"
             DOC "the signgate program that signs behind the review gate")
unset(_signgate_prefix)

if(NOT SIGNGATE_EXECUTABLE OR NOT EXISTS "${SIGNGATE_EXECUTABLE}")
  set(SignGate_FOUND FALSE)
  set(SignGate_NOT_FOUND_MESSAGE
      "the signgate program was not found (SIGNGATE_EXECUTABLE='${SIGNGATE_EXECUTABLE}'): install it on PATH or configure with -DSIGNGATE_EXECUTABLE=/path/to/signgate")
  return()
endif()

if(NOT TARGET SignGate::signgate)
  add_executable(SignGate::signgate IMPORTED GLOBAL)
  set_target_properties(SignGate::signgate PROPERTIES IMPORTED_LOCATION "${SIGNGATE_EXECUTABLE}")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/SignGate.cmake")
set(SignGate_FOUND TRUE)
