# signgate.mk -- sign a project's release files with signgate from Make.
#
#   include /usr/local/share/signgate/templates/signgate.mk
#   SIGN_FILES = dist/hello-1.0.tar.gz
#
# gives:
#   make sign                signgate sign SIGN_FILES (building them first)
#   make verify-signatures   signgate verify SIGN_FILES
#   make install-signatures  signgate sign SIGN_INSTALL_FILES (the installed copies)
#   $(SIGN_INSTALL_HOOK)     the same command, to put as the last line of your
#                            own install recipe so that it runs after the copy
#
# Variables (set them before or after the include, or on the command line):
#   SIGNGATE            the program                       (default: signgate on PATH)
#   SIGN_FILES          the files to sign                 (required for sign / verify-signatures)
#   SIGN_PROFILE        profile name, --profile           (default: chosen by the policy's artifacts globs)
#   SIGN_REV            the commit they were built from   (default: HEAD)
#   SIGN_FLAGS          more global options, e.g. -q or -C DIR
#   SIGN_INSTALL_FILES  installed paths to sign, e.g. $(DESTDIR)$(PREFIX)/bin/hello
#
# signgate finds the repository from the current directory (or -C DIR in
# SIGN_FLAGS) and judges SIGN_REV with the policy of the protected branch.
# A denied gate, a failed scan or a failed signature stops make with
# signgate's message and its exit status (3 denied, 4 scan, 1 other).
# Including this file does not change the default goal.

sg_mk_default_goal := $(.DEFAULT_GOAL)

SIGNGATE ?= signgate
SIGN_FILES ?=
SIGN_PROFILE ?=
SIGN_REV ?=
SIGN_FLAGS ?=
SIGN_INSTALL_FILES ?=

SIGNGATE_GLOBAL = $(SIGN_FLAGS) $(if $(strip $(SIGN_PROFILE)),--profile $(SIGN_PROFILE))
SIGNGATE_REV = $(if $(strip $(SIGN_REV)),--rev $(SIGN_REV))

SIGN_INSTALL_HOOK = $(if $(strip $(SIGN_INSTALL_FILES)),$(strip $(SIGNGATE) $(SIGNGATE_GLOBAL) sign $(SIGNGATE_REV) $(SIGN_INSTALL_FILES)),@echo "signgate.mk: SIGN_INSTALL_FILES is empty; nothing to sign after install" >&2; exit 2)

.PHONY: sign verify-signatures install-signatures

sign: $(SIGN_FILES)
	@$(if $(strip $(SIGN_FILES)),:,echo "signgate.mk: set SIGN_FILES to the files to sign" >&2; exit 2)
	$(strip $(SIGNGATE) $(SIGNGATE_GLOBAL) sign $(SIGNGATE_REV) $(SIGN_FILES))

verify-signatures:
	@$(if $(strip $(SIGN_FILES)),:,echo "signgate.mk: set SIGN_FILES to the files to verify" >&2; exit 2)
	$(strip $(SIGNGATE) $(SIGNGATE_GLOBAL) verify $(SIGNGATE_REV) $(SIGN_FILES))

install-signatures:
	$(SIGN_INSTALL_HOOK)

.DEFAULT_GOAL := $(sg_mk_default_goal)
