; Inno Setup recipe for Hearth on Windows: installs dist\hearth (installers\build-bundle.sh), a
; Start-menu entry, and a firewall rule that lets paired devices reach Hearth's port on private
; networks only. Built by installers\windows\build-installer.ps1.
#define Version GetEnv("HEARTH_VERSION")
#define Root AddBackslash(SourcePath) + "..\..\"

[Setup]
AppId={{8F3C2A51-6C0B-4E7A-9D2E-3B7F1A4C5D60}
AppName=Hearth
AppVersion={#Version}
AppPublisher=Hearth
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
DisableProgramGroupPage=yes
OutputDir={#Root}dist
OutputBaseFilename=Hearth-{#Version}-setup
SetupIconFile={#Root}resources\hearth_resources\hearth.ico
UninstallDisplayIcon={app}\hearth.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "ru"; MessagesFile: "compiler:Languages\Russian.isl"
Name: "ko"; MessagesFile: "compiler:Languages\Korean.isl"

[Files]
Source: "{#Root}dist\hearth\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; ggml's CPU backend uses OpenMP: the runtime from the build machine's Visual C++ redistributable.
Source: "{#Root}dist\vcomp140.dll"; DestDir: "{app}\_internal\llama_cpp\lib"; Flags: ignoreversion skipifsourcedoesntexist

[Icons]
Name: "{group}\Hearth"; Filename: "{app}\hearth.exe"
Name: "{autodesktop}\Hearth"; Filename: "{app}\hearth.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

[Run]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Hearth"" dir=in action=allow protocol=TCP localport=47311 profile=private program=""{app}\hearth.exe"""; Flags: runhidden
Filename: "{app}\hearth.exe"; Description: "{cm:LaunchProgram,Hearth}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Hearth"""; Flags: runhidden; RunOnceId: "HearthFirewall"
