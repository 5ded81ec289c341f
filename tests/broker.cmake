# Unit suites of the broker: one per module, linked against the same static
# library that vdi-broker is built from.
file(GLOB unit_broker_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/broker/test_*.c)
foreach(src ${unit_broker_tests})
	get_filename_component(base ${src} NAME_WE)
	string(REGEX REPLACE "^test_" "" mod ${base})
	vdi_unit_test(broker_${mod} ${src} LIBS vdibroker)
endforeach()

# itest_broker_cli runs the real vdi-broker, so building it must build the
# program first. integration.cmake defines the test after this file is read,
# hence the deferred call (run at the end of this directory).
function(vdi_broker_itest_deps)
	if(TARGET itest_broker_cli AND TARGET vdi-broker)
		add_dependencies(itest_broker_cli vdi-broker)
	endif()
endfunction()
cmake_language(DEFER CALL vdi_broker_itest_deps)
