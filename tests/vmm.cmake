# Unit suites of the vmm: one per device and core module, linked against the
# same static library that vdi-vmm is built from.
file(GLOB unit_vmm_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/vmm/test_*.c)
foreach(src ${unit_vmm_tests})
	get_filename_component(base ${src} NAME_WE)
	string(REGEX REPLACE "^test_" "" mod ${base})
	vdi_unit_test(vmm_${mod} ${src} LIBS vdivmm)
endforeach()
