# Install Hearth silently into a scratch folder, check it (--version, self-test, a chat), uninstall.
param([Parameter(Mandatory = $true)][string]$Setup)
$ErrorActionPreference = "Stop"
$scratch = Join-Path $env:RUNNER_TEMP "hearth-smoke"
$target = Join-Path $scratch "app"
Start-Process -Wait -FilePath $Setup -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", "/DIR=$target"
$env:HEARTH_HOME = Join-Path $scratch "home"
$env:QT_QPA_PLATFORM = "offscreen"
$cli = Join-Path $target "hearth-cli.exe"
& $cli --version; if ($LASTEXITCODE -ne 0) { throw "--version failed" }
& $cli self-test --engine; if ($LASTEXITCODE -ne 0) { throw "self-test failed" }
$model = & $cli synth tiny --out (Join-Path $scratch "tiny.gguf")
& $cli chat --model $model --prompt hello --max-tokens 4 --temperature 0 --no-history
if ($LASTEXITCODE -ne 0) { throw "chat failed" }
Start-Process -Wait -FilePath (Join-Path $target "unins000.exe") -ArgumentList "/VERYSILENT"
Write-Output "smoke test passed: $Setup"
