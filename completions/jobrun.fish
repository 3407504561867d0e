complete --keep-order --exclusive --command jobrun --arguments "(COMPLETE=fish jobrun -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
