# Integration tests: each starts real vdi-vmm processes (and later the broker
# and viewers) and drives them the way a user or the broker would. They
# need the programs built and exit 77 (skipped) where /dev/kvm is missing.
pkg_check_modules(LIBPNG_IT REQUIRED IMPORTED_TARGET libpng)

add_library(vdi_harness STATIC ${CMAKE_CURRENT_SOURCE_DIR}/integration/harness.c)
target_include_directories(vdi_harness PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/integration)
target_link_libraries(vdi_harness PUBLIC vdi_common vdiproto PkgConfig::CHECK
	PkgConfig::LIBPNG_IT)

file(GLOB integration_tests CONFIGURE_DEPENDS
	${CMAKE_CURRENT_SOURCE_DIR}/integration/test_*.c)
foreach(src ${integration_tests})
	get_filename_component(base ${src} NAME_WE)
	string(REGEX REPLACE "^test_" "" name ${base})
	add_executable(itest_${name} ${src})
	target_link_libraries(itest_${name} PRIVATE vdi_harness)
	if(TARGET vdi-vmm)
		add_dependencies(itest_${name} vdi-vmm)
	endif()
	vdi_integration_test(${name} COMMAND itest_${name})
endforeach()
