# Install rules: where `cmake --install` puts every part of chancery.
#
# Directories follow GNUInstallDirs and stay relative to the prefix, so that
# `cmake --install BUILD --prefix DIR` puts everything under DIR (the tests
# do that). With the prefix /usr the configuration goes to
# /etc/chancery/chancery.conf (see below), the rest under /usr; an absolute
# -DCMAKE_INSTALL_SYSCONFDIR=/etc (as debhelper passes) does the same for
# any prefix. systemd reads units, sysusers.d and
# tmpfiles.d under both /usr/lib and /usr/local/lib, so the relative
# defaults below work for either prefix; a packager may point them at
# `pkg-config --variable=systemdsystemunitdir systemd` instead.

set(CHANCERY_SYSTEMD_UNITDIR "lib/systemd/system"
    CACHE STRING "where the systemd unit goes (relative: under the prefix)")
set(CHANCERY_SYSUSERSDIR "lib/sysusers.d"
    CACHE STRING "where the sysusers.d snippet goes (relative: under the prefix)")
set(CHANCERY_TMPFILESDIR "lib/tmpfiles.d"
    CACHE STRING "where the tmpfiles.d snippet goes (relative: under the prefix)")
set(CHANCERY_BASHCOMPDIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "where the bash completion goes (relative: under the prefix)")
set(CHANCERY_PKGDATADIR "${CMAKE_INSTALL_DATADIR}/chancery")

install(TARGETS chancery-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# chanceryd is built only once daemon/ has sources.
if(TARGET chanceryd)
  install(TARGETS chanceryd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# chancery-web is built once the accounts it signs in with are.
if(TARGET chancery-web)
  install(TARGETS chancery-web RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The schema and the seed registry are compiled into the binaries; the
# copies here are for people who read or audit them.
file(GLOB CHANCERY_INSTALL_DB CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/db/*.sql ${CMAKE_SOURCE_DIR}/db/*.csv)
install(FILES ${CHANCERY_INSTALL_DB} DESTINATION ${CHANCERY_PKGDATADIR}/db)
# The example template with the partial and the attachment it names, so
# that `chancery template add NAME .../templates/anniversary.tmpl` works on
# the installed files.
file(GLOB CHANCERY_INSTALL_TEMPLATES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/templates/*.tmpl
     ${CMAKE_SOURCE_DIR}/templates/*.partial
     ${CMAKE_SOURCE_DIR}/templates/*.pdf)
install(FILES ${CHANCERY_INSTALL_TEMPLATES}
        DESTINATION ${CHANCERY_PKGDATADIR}/templates)
# The example configuration, always installed where it can be compared
# with the one in use.
install(FILES ${CMAKE_SOURCE_DIR}/templates/chancery.conf
        DESTINATION ${CHANCERY_PKGDATADIR} RENAME chancery.conf.example)

# bash-completion loads a completion by the command's name, so the one file
# is installed under both names.
foreach(name chancery chanceryd)
  install(FILES ${CMAKE_SOURCE_DIR}/completion/chancery.bash
          DESTINATION ${CHANCERY_BASHCOMPDIR} RENAME ${name})
endforeach()
install(FILES ${CMAKE_SOURCE_DIR}/dist/sysusers.conf
        DESTINATION ${CHANCERY_SYSUSERSDIR} RENAME chancery.conf)
install(FILES ${CMAKE_SOURCE_DIR}/dist/tmpfiles.conf
        DESTINATION ${CHANCERY_TMPFILESDIR} RENAME chancery.conf)

# The rest is decided at install time, when the prefix (--prefix) and
# DESTDIR are known:
#  - the configuration is installed only if absent: an upgrade never
#    overwrites what the administrator edited. As GNUInstallDirs does for
#    its FULL_ paths, the prefix /usr puts it under /etc, not /usr/etc;
#  - the unit's ExecStart and --config name the installed files.
# (file(INSTALL) adds DESTDIR itself; the existence check must add it.)
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  foreach(pair \"bindir;${CMAKE_INSTALL_BINDIR}\"
               \"sysconfdir;${CMAKE_INSTALL_SYSCONFDIR}\"
               \"unitdir;${CHANCERY_SYSTEMD_UNITDIR}\")
    list(GET pair 0 name)
    list(GET pair 1 dir)
    if(IS_ABSOLUTE \"\${dir}\")
    elseif(name STREQUAL sysconfdir AND prefix MATCHES \"^/usr/?$\")
      set(dir \"/\${dir}\")
    else()
      set(dir \"\${prefix}/\${dir}\")
    endif()
    set(\${name} \"\${dir}\")
  endforeach()

  set(conf \"\$ENV{DESTDIR}\${sysconfdir}/chancery/chancery.conf\")
  if(EXISTS \"\${conf}\")
    message(STATUS \"Keeping: \${conf} (already present)\")
  else()
    file(INSTALL \"${CMAKE_SOURCE_DIR}/templates/chancery.conf\"
         DESTINATION \"\${sysconfdir}/chancery\")
  endif()

  # Staged in a directory of its own per destination, so that two
  # installs from one build dir at once do not share the file.
  string(MD5 stage \"\$ENV{DESTDIR}\${prefix}\")
  set(stage \"${CMAKE_BINARY_DIR}/dist/\${stage}\")
  foreach(prog chanceryd chancery-web)
    file(READ \"${CMAKE_SOURCE_DIR}/dist/\${prog}.service\" unit)
    string(REPLACE \"/usr/bin/\${prog}\" \"\${bindir}/\${prog}\" unit \"\${unit}\")
    string(REPLACE \"/etc/chancery/\" \"\${sysconfdir}/chancery/\" unit \"\${unit}\")
    file(WRITE \"\${stage}/\${prog}.service\" \"\${unit}\")
    file(INSTALL \"\${stage}/\${prog}.service\"
         DESTINATION \"\${unitdir}\")
  endforeach()
")
