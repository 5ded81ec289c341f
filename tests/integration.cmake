# Integration tests: each starts real vdi-vmm processes (and later the broker
# and viewers) and drives them the way a user or the broker would. They
# need the programs built and exit 77 (skipped) where /dev/kvm is missing.
pkg_check_modules(LIBPNG_IT REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(LIBVNCCLIENT REQUIRED IMPORTED_TARGET libvncclient)
pkg_check_modules(SPICE_CLIENT REQUIRED IMPORTED_TARGET spice-client-glib-2.0)

find_package(OpenSSL REQUIRED)
add_library(vdi_harness STATIC ${CMAKE_CURRENT_SOURCE_DIR}/integration/harness.c
	${CMAKE_CURRENT_SOURCE_DIR}/integration/broker_harness.c)
target_include_directories(vdi_harness PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/integration)
target_link_libraries(vdi_harness PUBLIC vdi_common vdiproto PkgConfig::CHECK
	PkgConfig::LIBPNG_IT OpenSSL::SSL)

file(GLOB integration_tests CONFIGURE_DEPENDS
	${CMAKE_CURRENT_SOURCE_DIR}/integration/test_*.c)
foreach(src ${integration_tests})
	get_filename_component(base ${src} NAME_WE)
	string(REGEX REPLACE "^test_" "" name ${base})
	add_executable(itest_${name} ${src})
	# Tests are real clients of the display servers: libvncclient and spice-client-glib.
	target_link_libraries(itest_${name} PRIVATE vdi_harness PkgConfig::LIBVNCCLIENT
		PkgConfig::SPICE_CLIENT)
	if(TARGET vdi-vmm)
		add_dependencies(itest_${name} vdi-vmm)
	endif()
	if(TARGET vdibroker AND name MATCHES "^(broker|gateway)")
		target_link_libraries(itest_${name} PRIVATE vdibroker)
	endif()
	vdi_integration_test(${name} COMMAND itest_${name})
endforeach()
