# bash completion for chancery(1) and chanceryd(8).
#
# Commands, subcommands and options come from the command line of
# chancery(1). Lists, campaigns, templates, series and body acronyms are
# read from the database through `chancery --json ... ls`, with the same
# --config and --db the line already names; when there is no database (or
# no permission to read it) those simply complete to nothing.

# Prints the values of one field of the JSON array a listing prints, one
# per line. Plain sed: completion must not need python or jq.
_chancery_field()
{
	local field=$1
	shift
	# _chancery_cmd and _chancery_globals are _chancery's locals: the
	# program as typed and the --config/--db options given to it.
	local cmd=${_chancery_cmd:-chancery}
	local to=()
	command -v timeout >/dev/null 2>&1 && to=(timeout 3)
	"${to[@]}" "$cmd" "${_chancery_globals[@]}" --json "$@" </dev/null 2>/dev/null |
		grep -o "\"$field\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" |
		sed "s/^\"$field\"[[:space:]]*:[[:space:]]*\"\\(.*\\)\"\$/\\1/"
}

# Completes the current word from lines on stdin (names may hold spaces).
# Called with a redirection, never in a pipe, so COMPREPLY survives.
_chancery_reply()
{
	local line
	while IFS= read -r line; do
		[[ -n $line && $line == "$cur"* ]] || continue
		COMPREPLY+=("$(printf '%q' "$line")")
	done
}

_chancery_lists() { _chancery_reply < <(_chancery_field name list ls); }
_chancery_campaigns() { _chancery_reply < <(_chancery_field name campaign ls); }
_chancery_templates() { _chancery_reply < <(_chancery_field name template list); }
_chancery_series() { _chancery_reply < <(_chancery_field name series ls); }
_chancery_bodies() { _chancery_reply < <(_chancery_field acronym body list); }
_chancery_users() { _chancery_reply < <(_chancery_field name user list); }

_chancery_zones()
{
	local dir=${TZDIR:-/usr/share/zoneinfo}
	[[ -d $dir ]] || return 0
	_chancery_reply < <(cd "$dir" && find . -type f ! -name '*.tab' \
		! -name '*.zi' ! -path './posix/*' ! -path './right/*' \
		2>/dev/null | sed 's|^\./||')
}

_chancery_compgen()
{
	local line
	while IFS= read -r line; do
		COMPREPLY+=("$line")
	done < <(compgen "$@" -- "$cur")
}
_chancery_files() { _chancery_compgen -f; compopt -o filenames 2>/dev/null; }
_chancery_dirs() { _chancery_compgen -d; compopt -o filenames 2>/dev/null; }
_chancery_words() { _chancery_compgen -W "$1"; }

# The values an option takes; returns 1 when prev is not such an option.
_chancery_option_value()
{
	case $prev in
	--config|--db|--out|--output) _chancery_files ;;
	--separator) _chancery_words ", ; tab" ;;
	--role)
		if [[ $group == user ]]; then
			_chancery_words "viewer editor approver admin"
		fi ;;
	--maildir) _chancery_dirs ;;
	--password-file) _chancery_files ;;
	--list) _chancery_lists ;;
	--template) _chancery_templates ;;
	--campaign) _chancery_campaigns ;;
	--body) _chancery_bodies ;;
	--tz) _chancery_zones ;;
	--format) _chancery_words "table csv json html" ;;
	--response) _chancery_words "acknowledged auto_replied replied
		complained any none" ;;
	--kind) _chancery_words "un-organ un-agency regional-org ombudsman-assoc
		nhri ombudsman embassy foreign-mission diaspora-org ngo other" ;;
	--name|--language|--at|--event-date|--send|--lead-days|\
	--since|--anchor|--country|--notes|--description|--sender|--reason|\
	--acronym|--status|--email|--limit|--as)
		;; # free text
	*) return 1 ;;
	esac
	return 0
}

_chancery()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local _chancery_cmd=${COMP_WORDS[0]}
	local -a _chancery_globals=()
	local i word group='' sub='' nargs=0
	COMPREPLY=()

	# Find the command group, its subcommand and how many plain
	# arguments stand before the current word.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--config|--db)
			[[ -z $group ]] && _chancery_globals+=("$word" "${COMP_WORDS[i + 1]}")
			((i++))
			continue ;;
		--as)
			((i++))
			continue ;;
		--json) continue ;;
		--*=*) continue ;;
		--list|--template|--campaign|--body|--tz|--format|--kind|--name|\
		--role|--language|--at|--event-date|--send|--lead-days|--since|\
		--anchor|--country|--notes|--description|--sender|--out|\
		--maildir|--imap|--envelope-to|--user|--password-file|--reason|\
		--acronym|--status|--output|--separator|--email|--limit|--response|\
		--days)
			((i++))
			continue ;;
		-*) continue ;;
		esac
		if [[ -z $group ]]; then
			group=$word
		elif [[ -z $sub && $group != init && $group != bounce &&
			$group != inbox &&
			$group != find && $group != status && $group != backup ]]; then
			sub=$word
		else
			((nargs++))
		fi
	done

	_chancery_option_value && return 0

	if [[ -z $group ]]; then
		if [[ $cur == -* ]]; then
			_chancery_words "--config --db --json --help --version"
		else
			_chancery_words "init config body contact find registry list
				template series campaign audit inbox bounce relay backup status
				user"
		fi
		return 0
	fi

	if [[ -z $sub ]]; then
		case $group in
		init) _chancery_words "--seed --help"; return 0 ;;
		status) _chancery_words "--days --json --help"; return 0 ;;
		backup)
			if [[ $cur == -* ]]; then
				_chancery_words "--force --help"
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return 0 ;;
		find)
			[[ $cur == -* ]] && _chancery_words "--limit --json --help"
			return 0 ;;
		bounce)
			if [[ $cur == -* ]]; then
				_chancery_words "--maildir --imap --user --password-file --envelope-to --reason --help"
			else
				_chancery_words "list confirm dismiss"
			fi
			return 0 ;;
		inbox)
			if [[ $cur == -* ]]; then
				_chancery_words "--maildir --imap --envelope-to --kind
					--reason --help"
			else
				_chancery_words "list quarantine confirm dismiss"
			fi
			return 0 ;;
		config) _chancery_words "check show" ;;
		body) _chancery_words "add list show alias edit merge history rm" ;;
		contact) _chancery_words "add list edit history disable enable
			suppress rm" ;;
		registry) _chancery_words "import-statement import-csv export-csv
			teach unteach" ;;
		list) _chancery_words "create add rm rule show ls delete" ;;
		template) _chancery_words "add list show render" ;;
		series) _chancery_words "add edit ls show pause resume rm" ;;
		campaign) _chancery_words "create preview proof test schedule pause
			resume cancel status ls refresh" ;;
		audit) _chancery_words "campaign body verify anchor matrix" ;;
		relay) _chancery_words "test" ;;
		user) _chancery_words "add list passwd role disable enable" ;;
		esac
		[[ $cur == -* ]] && _chancery_words "--help"
		return 0
	fi

	if [[ $cur == -* ]]; then
		case "$group $sub" in
		"body add") _chancery_words "--acronym --kind --country --notes" ;;
		"body edit") _chancery_words "--acronym --name --kind --country --notes --language --running-name --lang" ;;
		"body list") _chancery_words "--kind" ;;
		"contact add") _chancery_words "--name --role --language" ;;
		"contact edit") _chancery_words "--body --email --name --role
			--language --notes" ;;
		"contact history") _chancery_words "--body --deliveries" ;;
		"body merge") _chancery_words "--dry-run" ;;
		"body history") _chancery_words "--deliveries" ;;
		"contact list") _chancery_words "--status" ;;
		"contact disable"|"contact enable"|"contact suppress"|"contact rm")
			_chancery_words "--body --reason" ;;
		"list add"|"list rm") _chancery_words "--list" ;;
		"list rule") _chancery_words "--country" ;;
		"registry import-statement") _chancery_words "--list --apply --accept
			--paragraph --from" ;;
		"registry teach") _chancery_words "--list" ;;
		"registry import-csv") _chancery_words "--dry-run --update --reactivate" ;;
		"registry export-csv") _chancery_words "--output --force --excel
			--separator" ;;
		"list create") _chancery_words "--rule --description" ;;
		"template render") _chancery_words "--body --contact --event-date --at --campaign --version" ;;
		"template show") _chancery_words "--version" ;;
		"series add") _chancery_words "--event-date --send --tz --template
			--list --lead-days --auto-schedule --sender --lang" ;;
		"series edit") _chancery_words "--template --list --send --at --tz
			--lead-days --lang" ;;
		"campaign create") _chancery_words "--template --list --at --tz --event-date
			--sender --receipt --lang" ;;
		"campaign edit") _chancery_words "--template --version --at --tz
			--list --event-date --sender --receipt --no-receipt --lang
			--now" ;;
		"campaign preview") _chancery_words "--body" ;;
		"campaign proof") _chancery_words "--out --force" ;;
		"campaign test") _chancery_words "--to --body" ;;
		"relay test") _chancery_words "--to" ;;
		"user add") _chancery_words "--role --password-file --generate" ;;
		"user passwd") _chancery_words "--password-file --generate" ;;
		"campaign status") _chancery_words "--follow" ;;
		"audit verify") _chancery_words "--anchor --format" ;;
		"audit matrix") _chancery_words "--since --response --format" ;;
		audit\ *) _chancery_words "--format" ;;
		esac
		_chancery_words "--help --json"
		return 0
	fi

	case "$group $sub" in
	"body show"|"body alias"|"body edit"|"body rm"|"contact add"|"contact list"|\
	"audit body"|"body history")
		((nargs == 0)) && _chancery_bodies ;;
	"body merge")
		((nargs < 2)) && _chancery_bodies ;;
	"list show"|"list rule"|"list delete")
		((nargs == 0)) && _chancery_lists ;;
	"list add"|"list rm")
		if ((nargs == 0)); then
			_chancery_lists
		else
			_chancery_bodies
			_chancery_lists
		fi ;;
	"template show"|"template render")
		((nargs == 0)) && _chancery_templates ;;
	"template add")
		if ((nargs == 0)); then _chancery_templates; else _chancery_files; fi ;;
	"registry import-statement"|"registry import-csv")
		((nargs == 0)) && _chancery_files ;;
	"series show"|"series edit"|"series pause"|"series resume"|"series rm")
		((nargs == 0)) && _chancery_series ;;
	"campaign preview"|"campaign proof"|"campaign test"|\
	"campaign schedule"|"campaign pause"|\
	"campaign resume"|"campaign cancel"|"campaign status"|\
	"campaign refresh"|"audit campaign")
		((nargs == 0)) && _chancery_campaigns ;;
	"user passwd"|"user disable"|"user enable")
		((nargs == 0)) && _chancery_users ;;
	"user role")
		if ((nargs == 0)); then _chancery_users
		elif ((nargs == 1)); then
			_chancery_words "viewer editor approver admin"
		fi ;;
	esac
	return 0
}

_chanceryd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	--config|--db) _chancery_files; return 0 ;;
	esac
	_chancery_words "--config --db --once --foreground --help --version"
	return 0
}

complete -F _chancery chancery
complete -F _chanceryd chanceryd
