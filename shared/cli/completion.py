"""``gunj completion bash|zsh|fish``: a shell completion script, generated from the parser
itself, so every subcommand, option and choice is completed as ``--help`` lists it."""

from __future__ import annotations

import argparse
import shlex
import sys

from .conventions import subcommands

SHELLS = ("bash", "zsh", "fish")


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    root: argparse.ArgumentParser,
) -> None:
    """``root``: the whole command line, which the scripts are made from."""
    command = subparsers.add_parser(
        "completion", help="print a shell completion script (bash, zsh or fish)"
    )
    command.add_argument("shell", choices=SHELLS)
    command.set_defaults(handler=run, root=root)


def run(arguments: argparse.Namespace) -> int:
    parser = arguments.root
    script = {"bash": bash, "zsh": zsh, "fish": fish}[arguments.shell](parser)
    sys.stdout.write(script)
    return 0


def _children(parser: argparse.ArgumentParser) -> list[str]:
    return [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]


def bash(parser: argparse.ArgumentParser) -> str:
    words: list[str] = []
    choices: list[str] = []
    for path, command in subcommands(parser):
        key = " ".join(path)
        offered = [*_children(command), *(o for a in _options(command) for o in a.option_strings)]
        words.append(f"    {shlex.quote(key)}) echo {shlex.quote(' '.join(offered))} ;;")
        for action in _options(command):
            if action.choices:
                values = " ".join(str(c) for c in action.choices)
                for option in action.option_strings:
                    choices.append(
                        f"    {shlex.quote(key + '|' + option)}) echo {shlex.quote(values)} ;;"
                    )
    return f"""# gunj completion for bash: eval "$(gunj completion bash)"
_gunj_words() {{
  case "$1" in
{chr(10).join(words)}
  esac
}}
_gunj_choices() {{
  case "$1" in
{chr(10).join(choices)}
  esac
}}
_gunj() {{
  local cur prev path word offered
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  path=""
  for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case "$word" in
      -*) ;;
      *) case " $(_gunj_words "$path") " in *" $word "*) path="${{path:+$path }}$word" ;; esac ;;
    esac
  done
  offered="$(_gunj_choices "$path|$prev")"
  [ -n "$offered" ] || offered="$(_gunj_words "$path")"
  COMPREPLY=( $(compgen -W "$offered" -- "$cur") )
}}
complete -o default -F _gunj gunj
"""


def zsh(parser: argparse.ArgumentParser) -> str:
    # zsh runs the bash script through its own bash-completion layer.
    return (
        '# gunj completion for zsh: eval "$(gunj completion zsh)"\n'
        "autoload -U +X compinit && compinit\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser).split("\n", 1)[1]
    )


def fish(parser: argparse.ArgumentParser) -> str:
    lines = ["# gunj completion for fish: gunj completion fish | source"]
    for path, command in subcommands(parser):
        if path:
            condition = " and ".join(f"__fish_seen_subcommand_from {word}" for word in path)
        else:
            condition = "__fish_use_subcommand"
        for child in _children(command):
            lines.append(f"complete -c gunj -n {shlex.quote(condition)} -a {shlex.quote(child)}")
        if not path:
            condition = "true"
        for action in _options(command):
            flags = []
            for option in action.option_strings:
                if option.startswith("--"):
                    flags.append(f"-l {shlex.quote(option[2:])}")
                else:
                    flags.append(f"-s {shlex.quote(option[1:])}")
            line = f"complete -c gunj -n {shlex.quote(condition)} {' '.join(flags)}"
            if action.choices:
                values = " ".join(str(c) for c in action.choices)
                line += f" -x -a {shlex.quote(values)}"
            elif action.nargs != 0:
                line += " -r -F"
            if action.help:
                line += f" -d {shlex.quote(action.help.split(';')[0][:60])}"
            lines.append(line)
    return "\n".join(lines) + "\n"
