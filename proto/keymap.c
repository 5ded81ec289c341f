// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/keymap.h"

#include <string.h>

const struct proto_key *proto_key_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned int i = 0; i < proto_nr_keys; i++)
		if (strcmp(proto_keys[i].name, name) == 0)
			return &proto_keys[i];
	return NULL;
}

const struct proto_key *proto_key_by_evdev(unsigned int code)
{
	for (unsigned int i = 0; i < proto_nr_keys; i++)
		if (proto_keys[i].evdev == code)
			return &proto_keys[i];
	return NULL;
}

const struct proto_key *proto_key_by_xt(unsigned int xt)
{
	for (unsigned int i = 0; i < proto_nr_keys; i++)
		if (proto_keys[i].xt == xt)
			return &proto_keys[i];
	return NULL;
}

const struct proto_key *proto_key_by_keysym(uint32_t keysym, bool *ret_shifted)
{
	if (!keysym)
		return NULL;
	for (unsigned int i = 0; i < proto_nr_keys; i++) {
		const struct proto_key *k = &proto_keys[i];

		if (k->keysym == keysym || k->keysym_alt == keysym) {
			if (ret_shifted)
				*ret_shifted = false;
			return k;
		}
		if (k->keysym_shifted == keysym) {
			if (ret_shifted)
				*ret_shifted = true;
			return k;
		}
	}
	return NULL;
}
