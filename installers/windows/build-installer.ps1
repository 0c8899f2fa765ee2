# Build dist\Hearth-VERSION-setup.exe from dist\hearth with Inno Setup (ISCC on PATH or in its usual
# folder). Copies the OpenMP runtime that ggml's CPU backend needs from the Visual C++ redistributable.
$ErrorActionPreference = "Stop"
$root = Resolve-Path "$PSScriptRoot\..\.."
$version = (Select-String -Path "$root\app\hearth\__init__.py" -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
if (-not (Test-Path "$root\dist\hearth\hearth.exe")) { throw "no dist\hearth: run installers/build-bundle.sh first" }
$omp = Get-ChildItem -Recurse -Filter vcomp140.dll -Path "${env:VCToolsRedistDir}", "C:\Windows\System32" -ErrorAction SilentlyContinue | Select-Object -First 1
if ($omp) { Copy-Item $omp.FullName "$root\dist\vcomp140.dll" } else { Write-Warning "vcomp140.dll not found; the installer relies on the system's" }
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
$env:HEARTH_VERSION = $version
& $iscc "$root\installers\windows\hearth.iss"
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }
Write-Output "$root\dist\Hearth-$version-setup.exe"
