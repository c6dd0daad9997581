# SignGate.cmake -- sign built, installed and packaged files with signgate.
# Included by SignGateConfig.cmake (find_package(SignGate)).
#
# signgate_sign(TARGETS tgt... [FILES file...] [PROFILE name] [REV rev])
#   Adds, once per call, to the umbrella targets
#     sign                signgate [--profile name] sign [--rev rev] FILE...
#                         on $<TARGET_FILE:tgt> and FILES (built first);
#                         the signatures are written next to them (FILE.p7s)
#     verify-signatures   signgate verify on the same files
#   and an install step: after `cmake --install`, the installed copies of
#   the targets and FILES (found by file name among the files this install
#   run put in place, DESTDIR included) are signed in place; the signatures
#   are added to install_manifest.txt. The step runs after every other
#   install rule of the project (it is added at the end of the top-level
#   CMakeLists.txt), so call signgate_sign() anywhere.
#   FILES are paths relative to the current binary folder, or absolute.
#   signgate runs in the current source folder: it must be inside the git
#   repository whose commit REV (default HEAD) the gate judges. A denied
#   gate, a scan finding or any error fails the step with signgate's message.
#
# signgate_sign_packages([PROFILE name] [REV rev])
#   Signs the packages CPack makes (CPACK_POST_BUILD_SCRIPTS, CPack 3.19+):
#   FILE.p7s next to each package in CPACK_OUTPUT_FILE_PREFIX / the build
#   folder. Call it before include(CPack), in the same scope.

include_guard(GLOBAL)

set(_SIGNGATE_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(_signgate_options out_global out_sign profile rev)
  set(g)
  set(s)
  if(NOT "${profile}" STREQUAL "")
    list(APPEND g --profile "${profile}")
  endif()
  if(NOT "${rev}" STREQUAL "")
    list(APPEND s --rev "${rev}")
  endif()
  set(${out_global} "${g}" PARENT_SCOPE)
  set(${out_sign} "${s}" PARENT_SCOPE)
endfunction()

function(signgate_sign)
  cmake_parse_arguments(PARSE_ARGV 0 SG "" "PROFILE;REV" "TARGETS;FILES")
  if(SG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "signgate_sign: unexpected arguments: ${SG_UNPARSED_ARGUMENTS}; "
                        "usage: signgate_sign(TARGETS tgt... [FILES file...] [PROFILE name] [REV rev])")
  endif()
  if(NOT SG_TARGETS AND NOT SG_FILES)
    message(FATAL_ERROR "signgate_sign: name the TARGETS and/or FILES to sign")
  endif()
  if(NOT SIGNGATE_EXECUTABLE)
    message(FATAL_ERROR "signgate_sign: SIGNGATE_EXECUTABLE is not set; call find_package(SignGate REQUIRED) first")
  endif()
  foreach(t IN LISTS SG_TARGETS)
    if(NOT TARGET "${t}")
      message(FATAL_ERROR "signgate_sign: '${t}' is not a target")
    endif()
  endforeach()
  _signgate_options(global signopts "${SG_PROFILE}" "${SG_REV}")

  set(built)
  set(names)
  foreach(t IN LISTS SG_TARGETS)
    list(APPEND built "$<TARGET_FILE:${t}>")
    list(APPEND names "$<TARGET_FILE_NAME:${t}>")
  endforeach()
  set(files)
  foreach(f IN LISTS SG_FILES)
    get_filename_component(abs "${f}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
    get_filename_component(name "${f}" NAME)
    list(APPEND files "${abs}")
    list(APPEND built "${abs}")
    list(APPEND names "${name}")
  endforeach()

  get_property(n GLOBAL PROPERTY _SIGNGATE_COUNT)
  if(NOT n)
    set(n 0)
  endif()
  math(EXPR n "${n} + 1")
  set_property(GLOBAL PROPERTY _SIGNGATE_COUNT ${n})

  set(shown ${SG_TARGETS} ${SG_FILES})
  list(JOIN shown ", " shown)  # "hello, greet, hello-data.txt", not a raw list
  add_custom_target(signgate_sign_${n}
    COMMAND "${SIGNGATE_EXECUTABLE}" ${global} sign ${signopts} ${built}
    DEPENDS ${files}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "signgate: signing ${shown}"
    VERBATIM)
  add_custom_target(signgate_verify_${n}
    COMMAND "${SIGNGATE_EXECUTABLE}" ${global} verify ${signopts} ${built}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "signgate: verifying ${shown}"
    VERBATIM)
  if(SG_TARGETS)
    add_dependencies(signgate_sign_${n} ${SG_TARGETS})
  endif()
  if(NOT TARGET sign)
    add_custom_target(sign)
    add_custom_target(verify-signatures)
  endif()
  add_dependencies(sign signgate_sign_${n})
  add_dependencies(verify-signatures signgate_verify_${n})

  # The install step: recorded now, emitted at the end of the top-level
  # CMakeLists.txt so that it runs after every install() rule.
  set_property(GLOBAL APPEND PROPERTY _SIGNGATE_INSTALL_STEPS ${n})
  set_property(GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_NAMES "${names}")
  set_property(GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_GLOBAL "${global}")
  set_property(GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_SIGN "${signopts}")
  set_property(GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_property(deferred GLOBAL PROPERTY _SIGNGATE_DEFERRED)
  if(NOT deferred)
    set_property(GLOBAL PROPERTY _SIGNGATE_DEFERRED TRUE)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _signgate_emit_install_steps)
  endif()
endfunction()

# Bracket arguments keep paths and options verbatim in the install script.
function(_signgate_bracket out value)
  set(${out} "[==[${value}]==]" PARENT_SCOPE)
endfunction()

function(_signgate_emit_install_steps)
  get_property(steps GLOBAL PROPERTY _SIGNGATE_INSTALL_STEPS)
  foreach(n IN LISTS steps)
    get_property(names GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_NAMES)
    get_property(global GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_GLOBAL)
    get_property(signopts GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_SIGN)
    get_property(dir GLOBAL PROPERTY _SIGNGATE_INSTALL_${n}_DIR)
    _signgate_bracket(b_exe "${SIGNGATE_EXECUTABLE}")
    _signgate_bracket(b_names "${names}")
    _signgate_bracket(b_global "${global}")
    _signgate_bracket(b_sign "${signopts}")
    _signgate_bracket(b_dir "${dir}")
    _signgate_bracket(b_script "${_SIGNGATE_MODULE_DIR}/SignGateInstall.cmake")
    install(CODE "set(_signgate_executable ${b_exe})
set(_signgate_names ${b_names})
set(_signgate_global ${b_global})
set(_signgate_signopts ${b_sign})
set(_signgate_workdir ${b_dir})
include(${b_script})")
  endforeach()
endfunction()

function(signgate_sign_packages)
  cmake_parse_arguments(PARSE_ARGV 0 SG "" "PROFILE;REV" "")
  if(SG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "signgate_sign_packages: unexpected arguments: ${SG_UNPARSED_ARGUMENTS}; "
                        "usage: signgate_sign_packages([PROFILE name] [REV rev])")
  endif()
  if(NOT SIGNGATE_EXECUTABLE)
    message(FATAL_ERROR "signgate_sign_packages: call find_package(SignGate REQUIRED) first")
  endif()
  _signgate_options(global signopts "${SG_PROFILE}" "${SG_REV}")
  _signgate_bracket(b_exe "${SIGNGATE_EXECUTABLE}")
  _signgate_bracket(b_global "${global}")
  _signgate_bracket(b_sign "${signopts}")
  _signgate_bracket(b_dir "${CMAKE_CURRENT_SOURCE_DIR}")
  _signgate_bracket(b_script "${_SIGNGATE_MODULE_DIR}/SignGateCPack.cmake")
  set(script "${CMAKE_CURRENT_BINARY_DIR}/signgate-cpack-sign.cmake")
  file(WRITE "${script}" "# written by signgate_sign_packages(); run by CPack after packaging
set(_signgate_executable ${b_exe})
set(_signgate_global ${b_global})
set(_signgate_signopts ${b_sign})
set(_signgate_workdir ${b_dir})
include(${b_script})
")
  set(CPACK_POST_BUILD_SCRIPTS ${CPACK_POST_BUILD_SCRIPTS} "${script}" PARENT_SCOPE)
endfunction()
