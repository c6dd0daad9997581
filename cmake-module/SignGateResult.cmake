# signgate's exit status in words, for the install and CPack scripts:
# 3 is a decision (the gate or the policy said no), anything else an error.
# _signgate_fail(RC WHAT OUT ERR): FATAL_ERROR with signgate's own message.
function(_signgate_fail rc what out err)
  set(how "could not sign")
  if(rc EQUAL 3)
    set(how "refused to sign")
  endif()
  message(FATAL_ERROR "signgate ${how} ${what} (exit ${rc}):\n${err}${out}")
endfunction()
