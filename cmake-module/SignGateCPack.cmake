# SignGateCPack.cmake -- run by CPack (CPACK_POST_BUILD_SCRIPTS) through the
# script signgate_sign_packages() writes. Inputs: _signgate_executable,
# _signgate_global, _signgate_signopts, _signgate_workdir; CPack gives
# CPACK_PACKAGE_FILES (the packages just made, still in CPack's staging
# folder) and CPACK_PACKAGE_DIRECTORY / CPACK_OUTPUT_FILE_PREFIX (where it
# copies them next). The packages are copied there first and signed in
# their final place (CPack's own copy that follows has the same bytes), so
# the signing note names the path users get.

if(NOT CPACK_PACKAGE_FILES)
  message(FATAL_ERROR "signgate: CPack reported no package files to sign")
endif()
set(_signgate_dest "${CPACK_PACKAGE_DIRECTORY}")
if(CPACK_OUTPUT_FILE_PREFIX)
  get_filename_component(_signgate_dest "${CPACK_OUTPUT_FILE_PREFIX}" ABSOLUTE
                         BASE_DIR "${CPACK_PACKAGE_DIRECTORY}")
endif()
if(NOT _signgate_dest)
  message(FATAL_ERROR "signgate: CPack gave no CPACK_PACKAGE_DIRECTORY; cannot tell where the packages go")
endif()
file(MAKE_DIRECTORY "${_signgate_dest}")
set(_signgate_files)
foreach(_signgate_p IN LISTS CPACK_PACKAGE_FILES)
  get_filename_component(_signgate_name "${_signgate_p}" NAME)
  file(COPY_FILE "${_signgate_p}" "${_signgate_dest}/${_signgate_name}")
  list(APPEND _signgate_files "${_signgate_dest}/${_signgate_name}")
endforeach()
list(JOIN _signgate_files ", " _signgate_shown)
message(STATUS "signgate: signing ${_signgate_shown}")
execute_process(
  COMMAND "${_signgate_executable}" ${_signgate_global} sign ${_signgate_signopts} ${_signgate_files}
  WORKING_DIRECTORY "${_signgate_workdir}"
  RESULT_VARIABLE _signgate_rc
  OUTPUT_VARIABLE _signgate_out
  ERROR_VARIABLE _signgate_err)
if(NOT _signgate_rc EQUAL 0)
  include("${CMAKE_CURRENT_LIST_DIR}/SignGateResult.cmake")
  _signgate_fail("${_signgate_rc}" "the packages" "${_signgate_out}" "${_signgate_err}")
endif()
string(STRIP "${_signgate_err}" _signgate_err)
message(STATUS "${_signgate_err}")  # signgate's own "signgate: N artifacts signed ..."
