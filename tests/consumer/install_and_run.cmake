# Proves that the installed CMake package works: installs the `cpp` component of
# a build tree into a scratch prefix, then configures, builds and runs
# tests/consumer against that prefix alone. Any failing step fails the script.
#
# cmake -DMMAP_ARRAY_BUILD_DIR=<build tree> -DMMAP_ARRAY_VERSION=<x.y.z>
#       -DCONSUMER_SOURCE_DIR=<tests/consumer> -DWORK_DIR=<scratch dir>
#       [-DCONFIG=<config>] [-DGENERATOR=<generator>] [-DMAKE_PROGRAM=<path>]
#       [-DCXX_COMPILER=<path>] [-DCXX_FLAGS=<flags>]
#       [-DSHARED_FROM_SOURCE=<source tree>] -P install_and_run.cmake
#
# With SHARED_FROM_SOURCE, the library is first built from that source tree as a
# shared library (BUILD_SHARED_LIBS=ON) in the scratch directory, and that build is
# installed instead of MMAP_ARRAY_BUILD_DIR: it proves the exported symbols suffice.
cmake_minimum_required(VERSION 3.22)

foreach(required MMAP_ARRAY_BUILD_DIR MMAP_ARRAY_VERSION CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT ${required})
    message(FATAL_ERROR "install_and_run.cmake: -D${required}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Debug)
endif()

# Runs a command, echoing it first; stops the script with its output if it fails.
function(run_step name)
  list(JOIN ARGN " " command_line)
  message(STATUS "${name}: ${command_line}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${name} failed (${result}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# A fresh tree every run: a stale prefix or cache could hide a broken install.
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# The consumer (and a shared library built here) use the build's own generator and compiler.
set(toolchain "-DCMAKE_BUILD_TYPE=${CONFIG}")
if(GENERATOR)
  list(APPEND toolchain -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND toolchain "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND toolchain "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(CXX_FLAGS)
  list(APPEND toolchain "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
endif()

if(SHARED_FROM_SOURCE)
  set(MMAP_ARRAY_BUILD_DIR "${WORK_DIR}/library")
  run_step("configure the shared library" "${CMAKE_COMMAND}" -S "${SHARED_FROM_SOURCE}"
           -B "${MMAP_ARRAY_BUILD_DIR}" ${toolchain} -DBUILD_SHARED_LIBS=ON
           -DMMAP_ARRAY_BUILD_TESTS=OFF -DMMAP_ARRAY_BUILD_PYTHON=OFF)
  run_step("build the shared library" "${CMAKE_COMMAND}" --build "${MMAP_ARRAY_BUILD_DIR}"
           --config "${CONFIG}")
endif()

run_step("install" "${CMAKE_COMMAND}" --install "${MMAP_ARRAY_BUILD_DIR}" --prefix "${prefix}"
         --component cpp --config "${CONFIG}")

# The files a consumer needs, the generated version header among them.
file(GLOB_RECURSE config_files "${prefix}/*/mmap_array-config.cmake")
file(GLOB_RECURSE version_files "${prefix}/*/mmap_array-config-version.cmake")
foreach(found config_files version_files)
  if(NOT ${found})
    message(FATAL_ERROR "the install has no ${found}: it put only\n${step_output}")
  endif()
endforeach()
foreach(header mmap_array.hpp mapped_file.hpp raw_array.hpp atomic_file.hpp error.hpp
               version.hpp export.hpp)
  if(NOT EXISTS "${prefix}/include/mmap_array/${header}")
    message(FATAL_ERROR "the install has no include/mmap_array/${header}")
  endif()
endforeach()
if(SHARED_FROM_SOURCE)
  file(GLOB_RECURSE shared_libraries "${prefix}/*/libmmap_array.so")
  if(NOT shared_libraries)
    message(FATAL_ERROR "a shared build installed no libmmap_array.so:\n${step_output}")
  endif()
endif()
if(EXISTS "${prefix}/include/mmap_array/version.hpp.in")
  message(FATAL_ERROR "the install ships the version.hpp.in template")
endif()

# The package registries could point at some other build; the configure output is checked
# below for the directory the package really came from.
set(isolation
  "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
run_step("configure" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}" ${toolchain}
         ${isolation} "-DMMAP_ARRAY_REQUIRED_VERSION=${MMAP_ARRAY_VERSION}")
string(FIND "${step_output}" "Found mmap_array ${MMAP_ARRAY_VERSION} in ${prefix}/" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the consumer did not find the package in ${prefix}:\n${step_output}")
endif()

run_step("build" "${CMAKE_COMMAND}" --build "${build}" --config "${CONFIG}")

set(program "${build}/consumer")
if(NOT EXISTS "${program}")
  set(program "${build}/${CONFIG}/consumer")  # multi-config generators
endif()
run_step("run" "${program}" "${WORK_DIR}/values.f64")
message(STATUS "${step_output}")

# The version file must also refuse what it does not provide (SameMinorVersion).
string(REPLACE "." ";" parts "${MMAP_ARRAY_VERSION}")
list(GET parts 0 major)
list(GET parts 1 minor)
math(EXPR next_minor "${minor} + 1")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build-wrong-version"
          ${toolchain} ${isolation} "-DMMAP_ARRAY_REQUIRED_VERSION=${major}.${next_minor}"
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(result EQUAL 0)
  message(FATAL_ERROR "find_package accepted version ${major}.${next_minor}:\n${out}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
