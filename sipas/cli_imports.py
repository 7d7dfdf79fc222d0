COMMANDS: list = []  # replaced by the import commands
