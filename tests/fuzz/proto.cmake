# libFuzzer targets of proto; included from tests/fuzz/CMakeLists.txt when
# VDI_FUZZ=ON (clang). Run: ./fuzz_ticket -max_total_time=60
foreach(target fuzz_ticket fuzz_control fuzz_vv fuzz_uri)
	add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/${target}.c)
	target_link_libraries(${target} PRIVATE vdi_common vdiproto)
	target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
endforeach()
