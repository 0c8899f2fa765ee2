<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko">
<context>
    <name>App</name>
    <message>
        <location filename="../app/hearth/ui/app.py" line="30"/>
        <source>Hearth could not start its service on port %1 (is Hearth already running?): %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="53"/>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="62"/>
        <source>System prompt (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="77"/>
        <source>Ask something… (Ctrl+Enter sends)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="79"/>
        <location filename="../app/hearth/ui/chat_page.py" line="334"/>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="82"/>
        <source>Regenerate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="87"/>
        <source>Temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="89"/>
        <source>Max tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="175"/>
        <source>Rename…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="176"/>
        <source>Export as Markdown…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="177"/>
        <source>Export as JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="179"/>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Rename</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="207"/>
        <source>Markdown (*.md)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="207"/>
        <source>JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="208"/>
        <source>Export conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="226"/>
        <source>Exported to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="234"/>
        <source>No model loaded: choose one on the Planner page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="237"/>
        <source>%1 on %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="240"/>
        <source>continues text; not tuned for chat</source>
        <translation>텍스트를 이어 씁니다; 대화용으로 조정되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="291"/>
        <source>%1 tokens/s · first token %2 ms · context %3 % · %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="319"/>
        <source>Answering another app…</source>
        <translation>다른 앱에 답하는 중…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="321"/>
        <location filename="../app/hearth/ui/chat_page.py" line="324"/>
        <source>%n more waiting</source>
        <translation>
            <numerusform>%n개 더 대기 중</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="334"/>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CodeDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="91"/>
        <source>Pairing request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="93"/>
        <source>%1 wants to pair with this device. Type this code there:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="106"/>
        <source>Only pair with devices you own. The code is valid for %1 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="46"/>
        <source>Pair…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="48"/>
        <source>Forget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="62"/>
        <source> (this device)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="70"/>
        <source>%1 memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="76"/>
        <source>Used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="77"/>
        <source>Donated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="81"/>
        <source>%1 used · %2 free of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="84"/>
        <source>donates %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>Donating to paired devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>Not donating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="92"/>
        <source>Paired · connected · %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="94"/>
        <source>Paired · not reachable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="98"/>
        <source>Not paired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="98"/>
        <source>Not paired · offline</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DeviceColumn</name>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="55"/>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="56"/>
        <source>Weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="57"/>
        <source>KV cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="58"/>
        <source>Compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="62"/>
        <source>no layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="65"/>
        <source>layers %1–%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="68"/>
        <source>needs %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="108"/>
        <source>Add by address…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="113"/>
        <source>Devices in this home appear here by themselves.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="155"/>
        <source>Forget %1?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="156"/>
        <source>%1 will no longer be trusted; pairing again needs a new code.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="166"/>
        <source>Add a device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="166"/>
        <source>Address (host:port) of a device running Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="177"/>
        <source>Could not add it: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="172"/>
        <source>Found %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="39"/>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="58"/>
        <source>%1 of %2</source>
        <translation>%2 중 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="62"/>
        <source>%1/s</source>
        <translation>%1/초</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="64"/>
        <source>%1 left</source>
        <translation>%1 남음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="67"/>
        <source>Paused at %1</source>
        <translation>일시 중지됨: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="69"/>
        <source>Stopped: %1</source>
        <translation>중단됨: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="71"/>
        <source>Done: %1</source>
        <translation>완료: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="73"/>
        <source>Pause</source>
        <translation>일시 중지</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="73"/>
        <source>Resume</source>
        <translation>이어받기</translation>
    </message>
</context>
<context>
    <name>DownloadsView</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="89"/>
        <source>No downloads. Pick a model from the catalog or a hub search.</source>
        <translation>다운로드가 없습니다. 카탈로그에서 모델을 고르거나 허브에서 검색하세요.</translation>
    </message>
</context>
<context>
    <name>HubList</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Quantization</source>
        <translation>양자화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Fits</source>
        <translation>적합성</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="60"/>
        <source>checking…</source>
        <translation>확인 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="90"/>
        <source>unknown: %1</source>
        <translation>알 수 없음: %1</translation>
    </message>
</context>
<context>
    <name>LayerStrip</name>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="199"/>
        <source>Pick a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="215"/>
        <source>out</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="44"/>
        <source>Devices</source>
        <translation>기기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="45"/>
        <source>Planner</source>
        <translation>플래너</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="46"/>
        <source>Chat</source>
        <translation>채팅</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="47"/>
        <source>Models</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="48"/>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="139"/>
        <source>Pairing request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="143"/>
        <source>%1 wants to pair. Code: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="153"/>
        <source>Hearth keeps donating from the tray.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="161"/>
        <source>This desktop has no tray, so closing the window quits Hearth and stops donating.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="85"/>
        <source>Import a .gguf file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="81"/>
        <source>Models on this device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="62"/>
        <source>On this device</source>
        <translation>이 기기에 있음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="63"/>
        <location filename="../app/hearth/ui/models_page.py" line="215"/>
        <source>Catalog</source>
        <translation>카탈로그</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="64"/>
        <source>Search the hub</source>
        <translation>허브 검색</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="66"/>
        <source>Downloads</source>
        <translation>다운로드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="87"/>
        <source>Plan and chat</source>
        <translation>계획 후 대화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="89"/>
        <source>Show in folder</source>
        <translation>폴더에서 보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="91"/>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="116"/>
        <source>%1 — cannot be used: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="120"/>
        <source>continues text; not tuned for chat</source>
        <translation>텍스트를 이어 씁니다; 대화용으로 조정되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="126"/>
        <source>No models on this device yet. The Catalog tab suggests models that fit your devices.</source>
        <translation>이 기기에는 아직 모델이 없습니다. 카탈로그 탭에서 기기에 맞는 모델을 추천합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="149"/>
        <source>yes</source>
        <translation>있음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="149"/>
        <source>no: continues text; not tuned for chat</source>
        <translation>없음: 텍스트를 이어 쓸 뿐, 대화용으로 조정되지 않았습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="151"/>
        <source>Architecture</source>
        <translation>아키텍처</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="152"/>
        <source>Parameters</source>
        <translation>매개변수</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="153"/>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="154"/>
        <source>Quantization</source>
        <translation>양자화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="155"/>
        <source>Layers</source>
        <translation>레이어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="156"/>
        <source>Context length</source>
        <translation>컨텍스트 길이</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="157"/>
        <source>Licence</source>
        <translation>라이선스</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="157"/>
        <source>not stated in the file</source>
        <translation>파일에 명시되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>Chat template</source>
        <translation>대화 템플릿</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="159"/>
        <source>File</source>
        <translation>파일</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="177"/>
        <source>Delete %1 from this device?</source>
        <translation>이 기기에서 %1을(를) 삭제할까요?</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="178"/>
        <source>Delete model</source>
        <translation>모델 삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="185"/>
        <source>Deleted %1</source>
        <translation>%1 삭제됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>Import a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="197"/>
        <source>Checking %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="201"/>
        <source>%1 was not imported: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="207"/>
        <source>Imported %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="218"/>
        <location filename="../app/hearth/ui/models_page.py" line="283"/>
        <source>Download</source>
        <translation>다운로드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="243"/>
        <source>Instruct models from small to 70B class. Each says whether it fits this device, your paired devices together, or neither.</source>
        <translation>작은 모델부터 70B급까지의 지시 모델입니다. 각 모델이 이 기기에 맞는지, 페어링된 기기를 합쳐야 맞는지, 어디에도 맞지 않는지 표시합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="258"/>
        <source>Asking the hub for %1…</source>
        <translation>허브에서 %1 확인 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="267"/>
        <source>Welcome to Hearth. Start with a model: those marked &quot;fits this device&quot; run here alone, the others need your paired devices. Small ones download in minutes.</source>
        <translation>Hearth에 오신 것을 환영합니다. 먼저 모델을 고르세요. &quot;이 기기에서 실행 가능&quot;으로 표시된 모델은 이 기기 혼자 실행하고, 나머지는 페어링된 기기가 필요합니다. 작은 모델은 몇 분이면 받을 수 있습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="276"/>
        <source>Search GGUF models on Hugging Face, e.g. &quot;qwen 7b&quot;</source>
        <translation>Hugging Face에서 GGUF 모델 검색 (예: &quot;qwen 7b&quot;)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="277"/>
        <source>Search text</source>
        <translation>검색어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="279"/>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="282"/>
        <source>Search results</source>
        <translation>검색 결과</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="304"/>
        <source>Searching the hub for %1…</source>
        <translation>허브에서 %1 검색 중…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="326"/>
        <source>%n model file(s) found</source>
        <translation>
            <numerusform>모델 파일 %n개를 찾았습니다</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="337"/>
        <source>Downloading %1</source>
        <translation>%1 다운로드 중</translation>
    </message>
</context>
<context>
    <name>OtherAppsBox</name>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="25"/>
        <source>Other apps</source>
        <translation>다른 앱</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="28"/>
        <source>Let apps on this device use the loaded model (OpenAI-compatible API)</source>
        <translation>이 기기의 앱이 불러온 모델을 사용하도록 허용 (OpenAI 호환 API)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="30"/>
        <source>Also let other devices on the network use it (they need the key)</source>
        <translation>네트워크의 다른 기기도 사용하도록 허용 (키 필요)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="34"/>
        <source>none (web pages may not call it)</source>
        <translation>없음 (웹 페이지는 호출할 수 없음)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="35"/>
        <source>Keep other apps&apos; conversations in the chat history</source>
        <translation>다른 앱의 대화를 채팅 기록에 보관</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="43"/>
        <source>Show</source>
        <translation>보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="48"/>
        <source>Copy key</source>
        <translation>키 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="50"/>
        <source>New key</source>
        <translation>새 키</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="55"/>
        <source>Copy example</source>
        <translation>예시 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="57"/>
        <source>Apply</source>
        <translation>적용</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="70"/>
        <source>Port</source>
        <translation>포트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="71"/>
        <source>Web pages allowed (origins, comma-separated)</source>
        <translation>허용된 웹 페이지 (출처, 쉼표로 구분)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="74"/>
        <source>Address</source>
        <translation>주소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="75"/>
        <source>Key</source>
        <translation>키</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="76"/>
        <source>Try it</source>
        <translation>사용해 보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="94"/>
        <source>Not listening: %1</source>
        <translation>수신 대기 안 함: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="96"/>
        <source>%1 (this device only)</source>
        <translation>%1 (이 기기만)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="99"/>
        <source>Off</source>
        <translation>꺼짐</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="117"/>
        <source>Saved.</source>
        <translation>저장됨.</translation>
    </message>
</context>
<context>
    <name>PairDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="26"/>
        <source>Pair with %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="27"/>
        <source>Asking %1… A code appears on that device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="30"/>
        <source>6-digit code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="38"/>
        <source>Pair</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="50"/>
        <source>Type the code shown on %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="61"/>
        <source>Checking the code…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="67"/>
        <source>Paired with %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="73"/>
        <source>Pairing failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PlannerPage</name>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="69"/>
        <source>Auto plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="71"/>
        <source>Load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="73"/>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="88"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="91"/>
        <source>Context</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="139"/>
        <source>No model yet: import a .gguf file on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="145"/>
        <source>%1 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="147"/>
        <source>context %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="192"/>
        <source>%1 (this device)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="256"/>
        <source>predicted %1 tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="260"/>
        <source>A device would run out of memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="269"/>
        <source>Loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="274"/>
        <source>%1 would need %2 but has %3: over by %4</source>
        <translation>%1에는 %2이(가) 필요하지만 %3만 있습니다: %4 초과</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="294"/>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="307"/>
        <source>Loaded on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="313"/>
        <source>Could not load: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="327"/>
        <source>Loading cancelled</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="37"/>
        <source>Let paired devices use this device&apos;s compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="41"/>
        <source>half of this device&apos;s memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="44"/>
        <source>all cores</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="45"/>
        <source>Apply</source>
        <translation type="unfinished">적용</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="50"/>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="52"/>
        <source>Memory cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="53"/>
        <source>Thread cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="55"/>
        <source>The theme follows the system&apos;s light or dark setting.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="77"/>
        <source>Saved.</source>
        <translation type="unfinished">저장됨.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="83"/>
        <source>The language changes when Hearth next starts.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="45"/>
        <source>Donate compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="50"/>
        <source>Open Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="51"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="74"/>
        <source>Not donating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="75"/>
        <source>Donating: ready for paired devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="76"/>
        <source>Donating: a paired device is using this one</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>widget</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="27"/>
        <source>fits this device</source>
        <translation>이 기기에서 실행 가능</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/hub_list.py" line="29"/>
        <source>fits with your paired devices (%n devices)</source>
        <translation>
            <numerusform>페어링된 기기와 함께 실행 가능 (기기 %n대)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="31"/>
        <source>too large</source>
        <translation>너무 큼</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="32"/>
        <source>about %1 tokens/s</source>
        <translation>초당 약 %1 토큰</translation>
    </message>
</context>
</TS>
