# rthread as a vcpkg overlay port, built from a checkout (no download):
#   vcpkg install rthread --overlay-ports=<checkout>/tools/vcpkg/ports
# The sources are $ENV{RTHREAD_SOURCE_DIR} when it is set (for a copy of this
# port folder kept elsewhere), else the checkout this port sits in.
if(DEFINED ENV{RTHREAD_SOURCE_DIR} AND NOT "$ENV{RTHREAD_SOURCE_DIR}" STREQUAL "")
    file(TO_CMAKE_PATH "$ENV{RTHREAD_SOURCE_DIR}" SOURCE_PATH)
else()
    get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
endif()
if(NOT EXISTS "${SOURCE_PATH}/CMakeLists.txt" OR NOT EXISTS "${SOURCE_PATH}/include/rthread/rthread.hpp")
    message(FATAL_ERROR "rthread: no rthread sources at '${SOURCE_PATH}'. "
        "Set the environment variable RTHREAD_SOURCE_DIR to a checkout of rthread.")
endif()

# A static library only: its thread registry and panic hook are process-wide
# state that must exist once.
vcpkg_check_linkage(ONLY_STATIC_LIBRARY)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DBUILD_TESTING=OFF
)
vcpkg_cmake_install()
# CMake installs the package to lib/cmake/rthread; vcpkg wants share/rthread.
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/rthread)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
