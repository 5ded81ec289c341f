#!/bin/sh
# Draws logo.png, the login screen's default logo: a blue rounded square
# with a white monitor and a small desktop inside. Run it again after
# changing it (needs ImageMagick); a deployment replaces logo.png and
# title with its own (or points --branding at another directory).
set -eu
cd "$(dirname "$0")"
convert -size 144x144 xc:none \
	-fill '#2f6fed' -draw 'roundrectangle 0,0 143,143 30,30' \
	-fill '#4f8af5' -draw 'roundrectangle 0,0 143,71 30,30' \
	-fill '#2f6fed' -draw 'rectangle 0,50 143,80' \
	-fill white -draw 'roundrectangle 28,36 116,96 8,8' \
	-fill '#2f6fed' -draw 'rectangle 36,44 108,88' \
	-fill '#9cc0ff' -draw 'rectangle 36,44 108,52' \
	-fill white -draw 'rectangle 42,58 66,66' \
	-fill white -draw 'rectangle 42,72 84,76' \
	-fill white -draw 'rectangle 42,80 76,84' \
	-fill white -draw 'rectangle 64,96 80,106' \
	-fill white -draw 'roundrectangle 46,104 98,112 4,4' \
	-strip PNG32:logo.png
