# sanji-pot.cmake - writes the gettext template (sanji.pot) of every string
# a person may read: the _() and N_() strings of common/, server/, relay/ and
# client/ (client/desk/ included), and the English texts of the error table
# in common/base/err.h, which are translated where no more precise message is at
# hand (_(sj_err_text(code))).
#
# Run in script mode; the target `sanji_pot` (common/CMakeLists.txt) and the
# test test_po use it, so the template and the check never disagree:
#
#   cmake -DSOURCE_DIR=<repo> -DOUTPUT=<file.pot> -DXGETTEXT=<xgettext> -P sanji-pot.cmake
#
# The source list is taken from the tree each time it runs: a new file is in
# the template without touching this script.

foreach(var SOURCE_DIR OUTPUT XGETTEXT)
  if(NOT ${var})
    message(FATAL_ERROR "sanji-pot.cmake: -D${var}=... is required")
  endif()
endforeach()

set(sources)
foreach(dir common server relay client)
  file(GLOB_RECURSE found RELATIVE ${SOURCE_DIR}
       ${SOURCE_DIR}/${dir}/*.c ${SOURCE_DIR}/${dir}/*.h)
  list(APPEND sources ${found})
endforeach()
list(SORT sources)
list(LENGTH sources n_sources)
if(n_sources EQUAL 0)
  message(FATAL_ERROR "sanji-pot.cmake: no sources under ${SOURCE_DIR}")
endif()

get_filename_component(out_dir ${OUTPUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
set(list_file ${OUTPUT}.files)
string(REPLACE ";" "\n" lines "${sources}")
file(WRITE ${list_file} "${lines}\n")

# _() and N_() are Sanji's (common/i18n.h); the GLib-style ones are listed
# so that a desk file using them is not silently left out.
execute_process(
  COMMAND ${XGETTEXT} --from-code=UTF-8 --language=C
          --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2
          --keyword=ngettext:1,2 --keyword=dgettext:2 --keyword=dngettext:2,3
          --add-comments=Translators: --sort-by-file
          --package-name=sanji --msgid-bugs-address=-
          --directory=${SOURCE_DIR} --files-from=${list_file}
          --output=${OUTPUT}
  RESULT_VARIABLE rc ERROR_VARIABLE err_text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sanji-pot.cmake: xgettext failed (${rc}): ${err_text}")
endif()

# The error table: X(NAME, number, "English text").  Only err.h is read with
# this keyword, so other X-macros elsewhere are not taken for messages.
execute_process(
  COMMAND ${XGETTEXT} --from-code=UTF-8 --language=C --join-existing
          --keyword= --keyword=X:3 --sort-by-file
          --directory=${SOURCE_DIR} --output=${OUTPUT} common/base/err.h
  RESULT_VARIABLE rc ERROR_VARIABLE err_text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sanji-pot.cmake: xgettext (error table) failed (${rc}): ${err_text}")
endif()
file(REMOVE ${list_file})
