# SignGateConfigVersion.cmake -- version check for find_package(SignGate X.Y).
# `make install` writes the release's version on the next line.
set(PACKAGE_VERSION "0.1.0")

# Same major version, at least the version asked for (0.x: same minor too).
if(PACKAGE_FIND_VERSION)
  string(REGEX MATCH "^[0-9]+" _sg_major "${PACKAGE_VERSION}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" _sg_minor "${PACKAGE_VERSION}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
  if(PACKAGE_VERSION VERSION_GREATER_EQUAL PACKAGE_FIND_VERSION
     AND PACKAGE_FIND_VERSION_MAJOR STREQUAL _sg_major)
    if(NOT _sg_major STREQUAL "0"
       OR "${PACKAGE_FIND_VERSION_MAJOR}.${PACKAGE_FIND_VERSION_MINOR}" STREQUAL _sg_minor)
      set(PACKAGE_VERSION_COMPATIBLE TRUE)
    endif()
  endif()
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
  unset(_sg_major)
  unset(_sg_minor)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
