# lua_embed.cmake: turn a plugin's Lua file into a C string constant.
#   cmake -DIN=file.lua -DOUT=file.c -DNAME=symbol -P lua_embed.cmake
# Shared by the linear, metrics and select plugins.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}.tmp "/* generated from ${IN} by lua_embed.cmake: do not edit */\nconst char ${NAME}[] = {${bytes}0};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
