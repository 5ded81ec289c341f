# vdi-viewer: one Check suite per module of the viewer library, linked
# against the same static library vdi-viewer is built from.
file(GLOB unit_viewer_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/viewer/test_*.c)
foreach(src ${unit_viewer_tests})
	get_filename_component(base ${src} NAME_WE)
	string(REGEX REPLACE "^test_" "" mod ${base})
	vdi_unit_test(viewer_${mod} ${src} LIBS vdiviewer)
endforeach()

# The integration tests test_viewer_*.c run the real vdi-viewer, so they
# need it built; test_viewer_rfb.c also is a VNC server itself (libvncserver).
# integration.cmake makes their targets after this file is read, hence the
# deferred call.
pkg_check_modules(VIEWER_IT_VNCSERVER REQUIRED IMPORTED_TARGET libvncserver)

function(vdi_viewer_itest_dependencies)
	file(GLOB viewer_itests ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_viewer_*.c)
	foreach(src ${viewer_itests})
		get_filename_component(base ${src} NAME_WE)
		string(REGEX REPLACE "^test_" "" name ${base})
		if(TARGET itest_${name} AND TARGET vdi-viewer)
			add_dependencies(itest_${name} vdi-viewer)
		endif()
	endforeach()
	if(TARGET itest_viewer_rfb)
		target_link_libraries(itest_viewer_rfb PRIVATE PkgConfig::VIEWER_IT_VNCSERVER)
	endif()
endfunction()
cmake_language(DEFER CALL vdi_viewer_itest_dependencies)
