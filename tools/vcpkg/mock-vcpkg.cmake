# Runs a vcpkg portfile without vcpkg (which needs the network): the vcpkg
# helpers a portfile calls are defined here to do what vcpkg's do, as plain
# CMake steps, and the portfile is then included as vcpkg includes it. Used
# by tools/checks/vcpkg.sh on tools/vcpkg/ports/rthread/portfile.cmake.
#
#   cmake -DPORTFILE=<port>/portfile.cmake -DPORT=rthread
#         -DCURRENT_PACKAGES_DIR=<dir> -DCURRENT_BUILDTREES_DIR=<dir>
#         [-DMOCK_DRY_RUN=ON] [-DMOCK_JOBS=2] -P mock-vcpkg.cmake
#
# What it mirrors of vcpkg (vcpkg-cmake and vcpkg-cmake-config ports, for a
# static Linux triplet, no VCPKG_BUILD_TYPE): a release and a debug build,
# Ninja, the options vcpkg_cmake_configure always passes (static, lib and bin
# dirs, no package registry, absolute install destinations refused), debug
# installed under debug/; vcpkg_cmake_config_fixup's move of the CMake
# package to share/<port>, with the debug targets merged in and the import
# prefix recomputed for the new depth; vcpkg_fixup_pkgconfig's debug include
# path; vcpkg_install_copyright; the sources: VERSION from the port's
# vcpkg.json, vcpkg_download_distfile (any URL CMake's file(DOWNLOAD) takes,
# file:// included, its SHA512 checked), vcpkg_extract_source_archive (the
# archive's one top directory is the source path); vcpkg_from_github only
# records its arguments (dry run), as GitHub is out of reach. What it cannot mirror: vcpkg's toolchain
# file and its installed tree: the dependencies come from the system here.
# MOCK_DRY_RUN only records what the portfile asked for (in
# <packages>/mock-calls.txt) without building.
cmake_minimum_required(VERSION 3.21)

foreach(var IN ITEMS PORTFILE PORT CURRENT_PACKAGES_DIR CURRENT_BUILDTREES_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "mock-vcpkg: -D${var}=... is required")
    endif()
endforeach()
if(NOT DEFINED MOCK_JOBS)
    set(MOCK_JOBS 2)
endif()
set(TARGET_TRIPLET x64-linux)
set(VCPKG_TARGET_IS_LINUX ON)
set(VCPKG_LIBRARY_LINKAGE dynamic) # what the portfile must turn static
set(CURRENT_INSTALLED_DIR "${CURRENT_PACKAGES_DIR}") # nothing else is installed
get_filename_component(mock_port_dir "${PORTFILE}" DIRECTORY)
file(READ "${mock_port_dir}/vcpkg.json" mock_manifest)
string(JSON VERSION GET "${mock_manifest}" version)
set(mock_calls "${CURRENT_PACKAGES_DIR}/mock-calls.txt")
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}")
file(WRITE "${mock_calls}" "")

function(mock_record)
    string(JOIN " " line ${ARGV})
    file(APPEND "${mock_calls}" "${line}\n")
endfunction()

function(mock_run)
    execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "mock-vcpkg: failed (${result}): ${ARGV}\n${out}")
    endif()
    set(mock_last_output "${out}" PARENT_SCOPE)
endfunction()

function(vcpkg_from_github)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_SOURCE_PATH;REPO;REF;SHA512;HEAD_REF" "PATCHES")
    mock_record(vcpkg_from_github ${ARGV})
    if(NOT MOCK_DRY_RUN)
        message(FATAL_ERROR "mock-vcpkg: vcpkg_from_github needs GitHub; run with -DMOCK_DRY_RUN=ON")
    endif()
    set(${arg_OUT_SOURCE_PATH} "${CURRENT_BUILDTREES_DIR}/src/from-github" PARENT_SCOPE)
endfunction()

function(vcpkg_download_distfile out)
    cmake_parse_arguments(PARSE_ARGV 1 arg "SKIP_SHA512" "FILENAME;SHA512" "URLS;HEADERS")
    mock_record(vcpkg_download_distfile ${ARGV})
    if(arg_SKIP_SHA512 OR NOT arg_SHA512 MATCHES "^[0-9a-f]+$" OR NOT arg_FILENAME)
        message(FATAL_ERROR "mock-vcpkg: vcpkg_download_distfile needs FILENAME and a SHA512")
    endif()
    set(file "${CURRENT_BUILDTREES_DIR}/downloads/${arg_FILENAME}")
    list(GET arg_URLS 0 url)
    file(DOWNLOAD "${url}" "${file}" STATUS status EXPECTED_HASH "SHA512=${arg_SHA512}")
    list(GET status 0 code)
    if(NOT code EQUAL 0)
        message(FATAL_ERROR "mock-vcpkg: download of ${url} failed: ${status}")
    endif()
    set(${out} "${file}" PARENT_SCOPE)
endfunction()

function(vcpkg_extract_source_archive out)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "ARCHIVE;SOURCE_BASE" "PATCHES")
    mock_record(vcpkg_extract_source_archive ${ARGV})
    set(dir "${CURRENT_BUILDTREES_DIR}/src/extracted")
    file(REMOVE_RECURSE "${dir}")
    file(ARCHIVE_EXTRACT INPUT "${arg_ARCHIVE}" DESTINATION "${dir}")
    file(GLOB top LIST_DIRECTORIES true "${dir}/*")
    list(LENGTH top count)
    if(NOT count EQUAL 1 OR NOT IS_DIRECTORY "${top}")
        message(FATAL_ERROR "mock-vcpkg: ${arg_ARCHIVE} does not hold one top directory")
    endif()
    set(${out} "${top}" PARENT_SCOPE)
endfunction()

function(vcpkg_check_linkage)
    cmake_parse_arguments(PARSE_ARGV 0 arg "ONLY_STATIC_LIBRARY;ONLY_DYNAMIC_LIBRARY;ONLY_DYNAMIC_CRT;ONLY_STATIC_CRT" "" "")
    mock_record(vcpkg_check_linkage ${ARGV})
    if(arg_ONLY_STATIC_LIBRARY)
        set(VCPKG_LIBRARY_LINKAGE static PARENT_SCOPE)
    endif()
endfunction()

function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG")
    mock_record(vcpkg_cmake_configure SOURCE_PATH "${arg_SOURCE_PATH}" OPTIONS ${arg_OPTIONS})
    if(MOCK_DRY_RUN)
        return()
    endif()
    if(VCPKG_LIBRARY_LINKAGE STREQUAL "static")
        set(shared OFF)
    else()
        set(shared ON)
    endif()
    find_program(ninja ninja)
    set(generator)
    if(ninja)
        set(generator -G Ninja)
    endif()
    foreach(config IN ITEMS rel dbg)
        if(config STREQUAL "rel")
            set(type Release)
            set(prefix "${CURRENT_PACKAGES_DIR}")
            set(extra ${arg_OPTIONS_RELEASE})
        else()
            set(type Debug)
            set(prefix "${CURRENT_PACKAGES_DIR}/debug")
            set(extra ${arg_OPTIONS_DEBUG})
        endif()
        set(build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-${config}")
        file(REMOVE_RECURSE "${build}")
        mock_run("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${build}" ${generator}
            "-DCMAKE_BUILD_TYPE=${type}" "-DCMAKE_INSTALL_PREFIX=${prefix}"
            "-DBUILD_SHARED_LIBS=${shared}"
            -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
            -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
            -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON
            -DCMAKE_INSTALL_SYSTEM_RUNTIME_LIBS_SKIP=TRUE
            -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON
            -DCMAKE_INSTALL_LIBDIR:STRING=lib
            -DCMAKE_INSTALL_BINDIR:STRING=bin
            ${arg_OPTIONS} ${extra})
        # vcpkg warns about options of the port's that the project never
        # reads (its own options aside); here that fails.
        string(FIND "${mock_last_output}" "Manually-specified variables were not used" at)
        if(NOT at EQUAL -1)
            string(SUBSTRING "${mock_last_output}" ${at} -1 unused)
            foreach(option IN LISTS arg_OPTIONS extra)
                if(option MATCHES "^-D([^:=]+)")
                    set(name "${CMAKE_MATCH_1}")
                    if(unused MATCHES "[ \t\n]${name}[ \t]*\n")
                        message(FATAL_ERROR "mock-vcpkg: the project ignores the port's option ${option}")
                    endif()
                endif()
            endforeach()
        endif()
    endforeach()
endfunction()

function(vcpkg_cmake_install)
    mock_record(vcpkg_cmake_install ${ARGV})
    if(MOCK_DRY_RUN)
        return()
    endif()
    foreach(config IN ITEMS rel dbg)
        mock_run("${CMAKE_COMMAND}" --build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-${config}"
            --target install -j ${MOCK_JOBS})
    endforeach()
endfunction()

# Rewrites how an installed CMake file finds its prefix: from share/<name>,
# the prefix is two directories up.
function(mock_two_levels_up file)
    file(READ "${file}" text)
    string(REGEX REPLACE
        "get_filename_component\\(_IMPORT_PREFIX \"\\\${CMAKE_CURRENT_LIST_FILE}\" PATH\\)(\nget_filename_component\\(_IMPORT_PREFIX \"\\\${_IMPORT_PREFIX}\" PATH\\))*"
        "get_filename_component(_IMPORT_PREFIX \"\${CMAKE_CURRENT_LIST_FILE}\" PATH)\nget_filename_component(_IMPORT_PREFIX \"\${_IMPORT_PREFIX}\" PATH)\nget_filename_component(_IMPORT_PREFIX \"\${_IMPORT_PREFIX}\" PATH)"
        text "${text}")
    string(REGEX REPLACE
        "get_filename_component\\(PACKAGE_PREFIX_DIR \"\\\${CMAKE_CURRENT_LIST_DIR}/\\.\\./(\\.\\./)*\" ABSOLUTE\\)"
        "get_filename_component(PACKAGE_PREFIX_DIR \"\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE)"
        text "${text}")
    string(REPLACE "${CURRENT_PACKAGES_DIR}" "\${_IMPORT_PREFIX}" text "${text}")
    file(WRITE "${file}" "${text}")
endfunction()

function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
    mock_record(vcpkg_cmake_config_fixup ${ARGV})
    if(MOCK_DRY_RUN)
        return()
    endif()
    if(NOT arg_PACKAGE_NAME)
        set(arg_PACKAGE_NAME "${PORT}")
    endif()
    if(NOT arg_CONFIG_PATH)
        set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
    endif()
    set(share "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
    set(release_config "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
    set(debug_config "${CURRENT_PACKAGES_DIR}/debug/${arg_CONFIG_PATH}")
    foreach(dir IN ITEMS "${release_config}" "${debug_config}")
        if(NOT IS_DIRECTORY "${dir}")
            message(FATAL_ERROR "mock-vcpkg: '${dir}' does not exist.")
        endif()
    endforeach()
    # Release files move to share/<name>.
    if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
        file(GLOB files "${release_config}/*")
        file(COPY ${files} DESTINATION "${share}")
        file(REMOVE_RECURSE "${release_config}")
    endif()
    # Debug: only the per-configuration targets files are kept, moved beside
    # the release ones, pointing into debug/.
    file(GLOB debug_targets "${debug_config}/*-debug.cmake")
    foreach(file IN LISTS debug_targets)
        file(READ "${file}" text)
        string(REPLACE "${CURRENT_PACKAGES_DIR}/debug" "\${_IMPORT_PREFIX}/debug" text "${text}")
        string(REPLACE "\${_IMPORT_PREFIX}/lib" "\${_IMPORT_PREFIX}/debug/lib" text "${text}")
        get_filename_component(name "${file}" NAME)
        file(WRITE "${share}/${name}" "${text}")
    endforeach()
    file(REMOVE_RECURSE "${debug_config}")
    # A config path under a directory named cmake leaves that directory.
    foreach(dir IN ITEMS "${release_config}" "${debug_config}")
        get_filename_component(parent "${dir}" DIRECTORY)
        get_filename_component(parent_name "${parent}" NAME)
        if(parent_name STREQUAL "cmake")
            file(REMOVE_RECURSE "${parent}")
        endif()
    endforeach()
    file(GLOB_RECURSE cmake_files "${share}/*.cmake")
    foreach(file IN LISTS cmake_files)
        mock_two_levels_up("${file}")
    endforeach()
    file(GLOB_RECURSE left "${CURRENT_PACKAGES_DIR}/debug/share/*")
    if(NOT left)
        file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/share")
    endif()
endfunction()

# vcpkg_fixup_pkgconfig: every .pc finds its prefix from its own place; the
# debug ones use the release headers (debug/include is removed).
function(vcpkg_fixup_pkgconfig)
    mock_record(vcpkg_fixup_pkgconfig ${ARGV})
    if(MOCK_DRY_RUN)
        return()
    endif()
    foreach(kind IN ITEMS release debug)
        if(kind STREQUAL "release")
            file(GLOB pcs "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc")
        else()
            file(GLOB pcs "${CURRENT_PACKAGES_DIR}/debug/lib/pkgconfig/*.pc")
        endif()
        foreach(pc IN LISTS pcs)
            file(READ "${pc}" text)
            if(NOT text MATCHES "(^|\n)prefix=\\\${pcfiledir}/\\.\\./\\.\\.\n")
                message(FATAL_ERROR "mock-vcpkg: ${pc} does not find its prefix from \${pcfiledir}")
            endif()
            if(kind STREQUAL "debug")
                string(REPLACE "\${prefix}/include" "\${prefix}/../include" text "${text}")
                file(WRITE "${pc}" "${text}")
            endif()
        endforeach()
    endforeach()
endfunction()

function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
    mock_record(vcpkg_install_copyright ${ARGV})
    if(MOCK_DRY_RUN)
        return()
    endif()
    set(text "")
    foreach(file IN LISTS arg_FILE_LIST)
        if(NOT EXISTS "${file}")
            message(FATAL_ERROR "mock-vcpkg: no license file '${file}'")
        endif()
        file(READ "${file}" part)
        string(APPEND text "${part}")
    endforeach()
    file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${PORTFILE}")
mock_record(linkage "${VCPKG_LIBRARY_LINKAGE}")
