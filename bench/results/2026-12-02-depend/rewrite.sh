# sourced: rewrites kbuild's -Wp,-MMD,FILE to -Wp,-MD,FILE (the same rule
# with system headers listed, as CMake's and automake's -MD write it), so
# that every setup compiles the same commands and depend mode applies.
args=()
for a in "$@"; do
    case $a in -Wp,-MMD,*) args+=("-Wp,-MD,${a#-Wp,-MMD,}") ;; *) args+=("$a") ;; esac
done
