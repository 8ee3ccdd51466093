# Convenience targets; each calls the script the README documents.
.PHONY: demo test
demo:
	scripts/demo
test:
	scripts/test
