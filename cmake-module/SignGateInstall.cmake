# SignGateInstall.cmake -- run at install time by the step signgate_sign()
# adds. Inputs (set by that step): _signgate_executable, _signgate_names
# (file names to sign), _signgate_global, _signgate_signopts, _signgate_workdir.
# Signs the files of this install run (CMAKE_INSTALL_MANIFEST_FILES, under
# $ENV{DESTDIR}) whose name is one of _signgate_names.

set(_signgate_files)
foreach(_signgate_name IN LISTS _signgate_names)
  set(_signgate_found FALSE)
  foreach(_signgate_m IN LISTS CMAKE_INSTALL_MANIFEST_FILES)
    get_filename_component(_signgate_base "${_signgate_m}" NAME)
    set(_signgate_f "$ENV{DESTDIR}${_signgate_m}")
    # symlinks (libx.so -> libx.so.1.0) are not signed: their target is
    # (no IN_LIST: install scripts run with the default, old, policies)
    list(FIND _signgate_files "${_signgate_f}" _signgate_seen)
    if(_signgate_base STREQUAL _signgate_name AND NOT IS_SYMLINK "${_signgate_f}"
       AND _signgate_seen EQUAL -1)
      list(APPEND _signgate_files "${_signgate_f}")
      set(_signgate_found TRUE)
    endif()
  endforeach()
  if(NOT _signgate_found)
    if(CMAKE_INSTALL_COMPONENT)
      message(STATUS "signgate: ${_signgate_name} is not part of component ${CMAKE_INSTALL_COMPONENT}; not signed here")
    else()
      message(FATAL_ERROR "signgate: ${_signgate_name} was not installed by this install run, so it cannot be signed; "
                          "install it with install(TARGETS/FILES ...) or remove it from signgate_sign()")
    endif()
  endif()
endforeach()

if(_signgate_files)
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
    _signgate_fail("${_signgate_rc}" "the installed files" "${_signgate_out}" "${_signgate_err}")
  endif()
  string(STRIP "${_signgate_err}" _signgate_err)
  message(STATUS "${_signgate_err}")  # signgate's own "signgate: N artifacts signed ..."
  # the manifest lists paths without DESTDIR, like the files it already has
  string(LENGTH "$ENV{DESTDIR}" _signgate_dlen)
  foreach(_signgate_f IN LISTS _signgate_files)
    string(SUBSTRING "${_signgate_f}" ${_signgate_dlen} -1 _signgate_m)
    foreach(_signgate_sfx IN ITEMS .p7s .asc .asc.tsr)
      if(EXISTS "${_signgate_f}${_signgate_sfx}")
        list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${_signgate_m}${_signgate_sfx}")
      endif()
    endforeach()
  endforeach()
endif()
