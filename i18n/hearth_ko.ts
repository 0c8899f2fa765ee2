<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko">
<context>
    <name>App</name>
    <message>
        <location filename="../app/hearth/ui/app.py" line="29"/>
        <source>Hearth cannot start: %1</source>
        <translation>Hearth를 시작할 수 없습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/app.py" line="38"/>
        <source>Hearth could not start its service on port %1 (is Hearth already running?): %2</source>
        <translation>Hearth가 포트 %1에서 서비스를 시작하지 못했습니다(Hearth가 이미 실행 중인가요?): %2</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="114"/>
        <source>Conversations</source>
        <translation>대화 목록</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="121"/>
        <source>New chat</source>
        <translation>새 대화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="136"/>
        <source>Open the Planner</source>
        <translation>플래너 열기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="145"/>
        <source>System prompt (optional)</source>
        <translation>시스템 프롬프트(선택 사항)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="146"/>
        <source>System prompt</source>
        <translation>시스템 프롬프트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="161"/>
        <source>Conversation</source>
        <translation>대화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="172"/>
        <source>Ask something… (Ctrl+Enter sends)</source>
        <translation>무엇이든 물어보세요… (Ctrl+Enter로 보내기)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="174"/>
        <source>Message</source>
        <translation>메시지</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="179"/>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Send</source>
        <translation>보내기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="181"/>
        <source>Regenerate</source>
        <translation>다시 생성</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="183"/>
        <source>Edit question</source>
        <translation>질문 수정</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Take back the last question and its answer to change it</source>
        <translation>마지막 질문과 그 답변을 되돌려 질문을 고칠 수 있게 합니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="186"/>
        <source>Copy answer</source>
        <translation>답변 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="192"/>
        <source>context %p%</source>
        <translation>컨텍스트 %p%</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="193"/>
        <source>Context used</source>
        <translation>사용한 컨텍스트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="198"/>
        <source>Temperature</source>
        <translation>온도</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="199"/>
        <source>Max tokens</source>
        <translation>최대 토큰</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="354"/>
        <source>Rename…</source>
        <translation>이름 바꾸기…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="355"/>
        <source>Export as Markdown…</source>
        <translation>Markdown으로 내보내기…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="356"/>
        <source>Export as JSON…</source>
        <translation>JSON으로 내보내기…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="358"/>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Rename</source>
        <translation>이름 바꾸기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="363"/>
        <source>Title</source>
        <translation>제목</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="384"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="385"/>
        <source>Export conversation</source>
        <translation>대화 내보내기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="392"/>
        <source>Exported to %1</source>
        <translation>%1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="433"/>
        <source>No model loaded: choose one on the Planner page.</source>
        <translation>불러온 모델이 없습니다. 플래너 페이지에서 고르세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="541"/>
        <source>%1 tokens/s · first token %2 ms · %3</source>
        <translation>%1 토큰/초 · 첫 토큰 %2ms · %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="402"/>
        <source>%1 on %2</source>
        <translation>%2에서 실행 중인 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="407"/>
        <source>continues text; not tuned for chat</source>
        <translation>텍스트를 이어 씁니다; 대화용으로 조정되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="420"/>
        <source>%1 left, so the model stopped. The Planner proposes a plan over the devices left.</source>
        <translation>%1 기기가 빠져서 모델이 멈췄습니다. 플래너가 남은 기기로 새 계획을 제안합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="425"/>
        <source>Planning again did not work: %1</source>
        <translation>다시 계획하지 못했습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="428"/>
        <source>Devices that joined would make this model faster: %1 tokens/s instead of %2.</source>
        <translation>새로 들어온 기기를 쓰면 이 모델이 더 빨라집니다: 초당 %2 대신 %1 토큰.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="495"/>
        <source>Copy code block</source>
        <translation>코드 블록 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="538"/>
        <source>%1 % of guesses kept</source>
        <translation>추측 %1 % 적중</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="548"/>
        <source>Stopped</source>
        <translation>중지됨</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="567"/>
        <source>Waiting for a place: the model gives %n answers at once, all taken.</source>
        <translation>
            <numerusform>자리를 기다리는 중: 모델이 한 번에 %n개의 답변을 하며, 모두 사용 중입니다.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="573"/>
        <source>Answering another app…</source>
        <translation>다른 앱에 답하는 중…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="575"/>
        <source>%n answers running</source>
        <translation>
            <numerusform>답변 %n개 진행 중</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="579"/>
        <source>%n more waiting</source>
        <translation>
            <numerusform>%n개 더 대기 중</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="590"/>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>You</source>
        <translation>나</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>Hearth</source>
        <translation>Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="597"/>
        <source>System</source>
        <translation>시스템</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>Copy</source>
        <translation>복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="603"/>
        <source>code</source>
        <translation>코드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="625"/>
        <source>stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="627"/>
        <source>failed: %1</source>
        <translation>실패: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="629"/>
        <source>failed</source>
        <translation>실패</translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="73"/>
        <source>this device</source>
        <translation>이 기기</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="75"/>
        <source>pooled over %1: %2</source>
        <translation>%1 기기를 합쳐 실행: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="128"/>
        <source>could not load %1: %2</source>
        <translation>%1을(를) 불러오지 못했습니다: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="148"/>
        <source>stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="153"/>
        <source>the answer stopped: %1</source>
        <translation>답변이 멈췄습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="164"/>
        <source>Type a message and press Enter. Ctrl-C stops an answer; /exit or Ctrl-D leaves.</source>
        <translation>메시지를 입력하고 Enter를 누르세요. Ctrl-C는 답변을 멈추고, /exit 또는 Ctrl-D는 나갑니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/chat.py" line="185"/>
        <source>cannot pool again: %1</source>
        <translation>기기를 다시 합치지 못했습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="63"/>
        <source>nothing found</source>
        <translation>찾은 것이 없습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="68"/>
        <source>embedding model</source>
        <translation>임베딩 모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/models.py" line="135"/>
        <source>paused: run the same command again to resume</source>
        <translation>일시 중지됨: 같은 명령을 다시 실행하면 이어서 받습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="180"/>
        <source>%1 shows a 6-digit code.</source>
        <translation>%1에 6자리 코드가 표시됩니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="191"/>
        <source>pairing failed: %1</source>
        <translation>페어링 실패: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="193"/>
        <source>paired with %1</source>
        <translation>%1과(와) 페어링했습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="199"/>
        <source>Code: </source>
        <translation>코드: </translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="202"/>
        <source>no code was entered</source>
        <translation>코드를 입력하지 않았습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="219"/>
        <source>forgot %1</source>
        <translation>%1을(를) 지웠습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="228"/>
        <source>added %1 at %2</source>
        <translation>%1을(를) %2 주소로 추가했습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/node.py" line="229"/>
        <source>pair with: %1</source>
        <translation>페어링하려면: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="129"/>
        <source>plan %1  ·  %2 tokens/s predicted  ·  context %3</source>
        <translation>계획 %1  ·  예상 초당 %2 토큰  ·  컨텍스트 %3</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/plan.py" line="145"/>
        <source>Compute buffers as llama.cpp sizes them for this plan.</source>
        <translation>계산 버퍼는 llama.cpp가 이 계획에 대해 계산한 크기입니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="50"/>
        <source>loading %1 with plan %2 (context %3)</source>
        <translation>%1을(를) 계획 %2(컨텍스트 %3)로 불러오는 중</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="63"/>
        <source>serving %1 at %2</source>
        <translation>%1을(를) %2에서 제공 중</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="71"/>
        <source>every request needs the key: `hearth serve` shows it with --show-key</source>
        <translation>모든 요청에 키가 필요합니다: `hearth serve`에 --show-key를 붙이면 보여 줍니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/cli/serve.py" line="77"/>
        <source>paired devices&apos; apps may be answered here too</source>
        <translation>페어링된 기기의 앱도 여기서 답을 받을 수 있습니다</translation>
    </message>
</context>
<context>
    <name>CodeDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="99"/>
        <source>Pairing request</source>
        <translation>페어링 요청</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="101"/>
        <source>%1 wants to pair with this device. Type this code there:</source>
        <translation>%1에서 이 기기와 페어링하려고 합니다. 그 기기에 이 코드를 입력하세요:</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="113"/>
        <source>Only pair with devices you own. The code is valid for %1 seconds.</source>
        <translation>본인 소유의 기기와만 페어링하세요. 코드는 %1초 동안 유효합니다.</translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="48"/>
        <source>Pair…</source>
        <translation>페어링…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="50"/>
        <source>Forget</source>
        <translation>삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="67"/>
        <source> (this device)</source>
        <translation> (이 기기)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="75"/>
        <source>%1 memory</source>
        <translation>메모리 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="81"/>
        <location filename="../app/hearth/ui/devices_page.py" line="149"/>
        <source>Used</source>
        <translation>사용 중</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="82"/>
        <location filename="../app/hearth/ui/devices_page.py" line="151"/>
        <source>Donated</source>
        <translation>공유됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="86"/>
        <source>%1 used · %2 free of %3</source>
        <translation>%1 사용 · %3 중 %2 여유</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="88"/>
        <location filename="../app/hearth/ui/devices_page.py" line="161"/>
        <source>donates %1</source>
        <translation>%1 공유</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>RAM: %1</source>
        <translation>RAM: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Donating to paired devices</source>
        <translation>페어링된 기기에 연산 자원 공유 중</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="97"/>
        <source>Not donating</source>
        <translation>공유하지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="99"/>
        <source>Paired · connected · %1 ms</source>
        <translation>페어링됨 · 연결됨 · %1ms</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="101"/>
        <source>Paired · not reachable</source>
        <translation>페어링됨 · 연결할 수 없음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired</source>
        <translation>페어링 안 됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="105"/>
        <source>Not paired · offline</source>
        <translation>페어링 안 됨 · 오프라인</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="109"/>
        <source>answers paired devices&apos; apps with %1</source>
        <translation>페어링된 기기의 앱에 %1(으)로 답함</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="111"/>
        <source>answers your apps with %1</source>
        <translation>내 앱에 %1(으)로 답함</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="114"/>
        <source>(%1 of %2 places taken)</source>
        <translation>(%2자리 중 %1자리 사용 중)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="117"/>
        <source>idle · would load %1 for paired devices&apos; apps</source>
        <translation>유휴 · 페어링된 기기의 앱을 위해 %1을(를) 로드함</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="119"/>
        <source>idle · would load %1 for your apps</source>
        <translation>유휴 · 내 앱을 위해 %1을(를) 로드함</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="145"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · RAM 공유</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="154"/>
        <source>%1 · GPU memory: %2 used · %3 free of %4</source>
        <translation>%1 · GPU 메모리: %2 사용 · %4 중 %3 여유</translation>
    </message>
</context>
<context>
    <name>DeviceColumn</name>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="74"/>
        <source>System</source>
        <translation>시스템</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="75"/>
        <source>Weights</source>
        <translation>가중치</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="76"/>
        <source>KV cache</source>
        <translation>KV 캐시</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="77"/>
        <source>Compute</source>
        <translation>연산 버퍼</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="81"/>
        <source>no layers</source>
        <translation>레이어 없음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="83"/>
        <source>layers %1–%2</source>
        <translation>레이어 %1–%2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="84"/>
        <source>needs %1 of %2</source>
        <translation>%2 중 %1 필요</translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="171"/>
        <source>Add by address…</source>
        <translation>주소로 추가…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="176"/>
        <source>Devices in this home appear here by themselves.</source>
        <translation>이 집의 기기는 여기에 자동으로 나타납니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="219"/>
        <source>Forget %1?</source>
        <translation>%1을(를) 삭제할까요?</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="220"/>
        <source>%1 will no longer be trusted; pairing again needs a new code.</source>
        <translation>%1은(는) 더 이상 신뢰되지 않습니다. 다시 페어링하려면 새 코드가 필요합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="234"/>
        <source>Add a device</source>
        <translation>기기 추가</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="235"/>
        <source>Address (host:port) of a device running Hearth</source>
        <translation>Hearth가 실행 중인 기기의 주소(호스트:포트)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="248"/>
        <source>Could not add it: %1</source>
        <translation>추가하지 못했습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="243"/>
        <source>Found %1</source>
        <translation>%1 찾음</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="44"/>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="47"/>
        <source>Plan and chat</source>
        <translation>계획하고 대화하기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="48"/>
        <source>Open the Planner with this model</source>
        <translation>이 모델로 플래너 열기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="68"/>
        <source>%1 of %2</source>
        <translation>%2 중 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="72"/>
        <source>%1/s</source>
        <translation>%1/초</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="74"/>
        <source>%1 left</source>
        <translation>%1 남음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="77"/>
        <source>Paused at %1</source>
        <translation>일시 중지됨: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="79"/>
        <source>Stopped: %1</source>
        <translation>중단됨: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="81"/>
        <source>Done: %1</source>
        <translation>완료: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Pause</source>
        <translation>일시 중지</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="83"/>
        <source>Resume</source>
        <translation>이어받기</translation>
    </message>
</context>
<context>
    <name>DownloadsView</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="102"/>
        <source>No downloads. Pick a model from the catalog or a hub search.</source>
        <translation>다운로드가 없습니다. 카탈로그에서 모델을 고르거나 허브에서 검색하세요.</translation>
    </message>
</context>
<context>
    <name>GuessingBox</name>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="20"/>
        <source>A draft model of the library, else the answer&apos;s own text</source>
        <translation>라이브러리의 초안 모델, 없으면 답변 자체의 텍스트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="21"/>
        <source>From the answer&apos;s own text only</source>
        <translation>답변 자체의 텍스트로만</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="22"/>
        <source>Off</source>
        <translation>끔</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_box.py" line="28"/>
        <source>A small model with the same tokenizer, or the text said so far, guesses the next few tokens and the model checks them in one pass: the same answer, sooner. Applies to the next model loaded.</source>
        <translation>같은 토크나이저를 쓰는 작은 모델이나 지금까지의 텍스트가 다음 몇 개의 토큰을 추측하고, 모델이 한 번에 확인합니다. 같은 답을 더 빨리 얻습니다. 다음에 불러오는 모델부터 적용됩니다.</translation>
    </message>
</context>
<context>
    <name>GuessingLine</name>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="46"/>
        <source>Guessing ahead is off (Settings).</source>
        <translation>미리 추측이 꺼져 있습니다 (설정).</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="57"/>
        <source>Guesses ahead from the answer&apos;s own text: no memory beyond the model.</source>
        <translation>답변 자체의 텍스트로 미리 추측: 모델 외에 메모리가 필요 없습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="60"/>
        <source>%1% of its guesses kept so far.</source>
        <translation>지금까지 추측의 %1%가 채택되었습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="66"/>
        <source>Guesses ahead with %1 (%2 more here): up to %3× as fast where a pass costs about one token</source>
        <translation>%1(으)로 미리 추측 (이 기기에서 %2 추가): 한 번의 패스가 토큰 하나 정도의 비용인 곳에서 최대 %3× 빠름</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="74"/>
        <source>from %1% of its guesses kept so far.</source>
        <translation>지금까지 채택된 추측 %1% 기준입니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/guessing_line.py" line="76"/>
        <source>expected until answers measure it.</source>
        <translation>답변이 측정하기 전까지의 예상치입니다.</translation>
    </message>
</context>
<context>
    <name>HubList</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="46"/>
        <source>fits this device</source>
        <translation>이 기기에서 실행 가능</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/hub_list.py" line="48"/>
        <source>fits with your paired devices (%n devices)</source>
        <translation>
            <numerusform>페어링된 기기와 함께 실행 가능 (기기 %n대)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="50"/>
        <source>too large</source>
        <translation>너무 큼</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="51"/>
        <source>about %1 tokens/s</source>
        <translation>초당 약 %1 토큰</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Quantization</source>
        <translation>양자화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="55"/>
        <source>Fits</source>
        <translation>적합성</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="62"/>
        <source>checking…</source>
        <translation>확인 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="94"/>
        <source>unknown: the hub cannot be reached</source>
        <translation>알 수 없음: 허브에 연결할 수 없음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="96"/>
        <source>unknown: %1</source>
        <translation>알 수 없음: %1</translation>
    </message>
</context>
<context>
    <name>LayerStrip</name>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="199"/>
        <source>Pick a model</source>
        <translation>모델 선택</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="215"/>
        <source>out</source>
        <translation>출력</translation>
    </message>
</context>
<context>
    <name>Legend</name>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="26"/>
        <source>System and other apps</source>
        <translation>시스템 및 다른 앱</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="27"/>
        <source>Weights</source>
        <translation>가중치</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="28"/>
        <source>KV cache</source>
        <translation>KV 캐시</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="29"/>
        <source>Compute buffers</source>
        <translation>연산 버퍼</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/legend.py" line="30"/>
        <source>Free</source>
        <translation>여유</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="59"/>
        <source>Pages</source>
        <translation>페이지</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="99"/>
        <source>&amp;Hearth</source>
        <translation>&amp;Hearth</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="100"/>
        <source>&amp;Quit</source>
        <translation>끝내기(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="107"/>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="108"/>
        <source>Keyboard &amp;shortcuts</source>
        <translation>단축키(&amp;S)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="118"/>
        <source>Go to the page: Devices, Planner, Chat, Models, Settings</source>
        <translation>페이지로 이동: 기기, 플래너, 채팅, 모델, 설정</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="119"/>
        <source>Send the message (in the chat)</source>
        <translation>메시지 보내기(채팅에서)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Tab</source>
        <translation>Tab</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="120"/>
        <source>Leave the message box for the next control</source>
        <translation>메시지 상자에서 다음 컨트롤로 이동</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="121"/>
        <source>Quit Hearth</source>
        <translation>Hearth 끝내기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="122"/>
        <source>Show these shortcuts</source>
        <translation>이 단축키 보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="127"/>
        <source>Keyboard shortcuts</source>
        <translation>단축키</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="146"/>
        <source>Devices</source>
        <translation>기기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="147"/>
        <source>Planner</source>
        <translation>플래너</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="148"/>
        <source>Chat</source>
        <translation>채팅</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="149"/>
        <source>Models</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="150"/>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="298"/>
        <source>Pairing request</source>
        <translation>페어링 요청</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="305"/>
        <source>Paired with %1.</source>
        <translation>%1와(과) 페어링했습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="311"/>
        <source>%1 wants to pair. Code: %2</source>
        <translation>%1에서 페어링을 요청합니다. 코드: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="319"/>
        <source>Hearth keeps donating from the tray.</source>
        <translation>Hearth는 트레이에서 계속 자원을 공유합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="327"/>
        <source>This desktop has no tray, so closing the window quits Hearth and stops donating.</source>
        <translation>이 데스크톱에는 트레이가 없어 창을 닫으면 Hearth가 종료되고 공유도 중지됩니다.</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="83"/>
        <source>Import a .gguf file…</source>
        <translation>.gguf 파일 가져오기…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="79"/>
        <source>Models on this device</source>
        <translation>이 기기의 모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="57"/>
        <source>Models</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="58"/>
        <source>On this device</source>
        <translation>이 기기에 있음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="59"/>
        <location filename="../app/hearth/ui/models_page.py" line="232"/>
        <source>Catalog</source>
        <translation>카탈로그</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="60"/>
        <source>Search the hub</source>
        <translation>허브 검색</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="64"/>
        <source>Downloads</source>
        <translation>다운로드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="85"/>
        <source>Import an MLX folder…</source>
        <translation>MLX 폴더 가져오기…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="87"/>
        <source>A folder with config.json and .safetensors weights (mlx-lm&apos;s format)</source>
        <translation>config.json과 .safetensors 가중치가 든 폴더(mlx-lm 형식)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="90"/>
        <source>Plan and chat</source>
        <translation>계획 후 대화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="92"/>
        <source>Show in folder</source>
        <translation>폴더에서 보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="94"/>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="120"/>
        <source>%1 — cannot be used: %2</source>
        <translation>%1 — 사용할 수 없음: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="122"/>
        <location filename="../app/hearth/ui/models_page.py" line="274"/>
        <source>embedding model</source>
        <translation>임베딩 모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="127"/>
        <source>continues text; not tuned for chat</source>
        <translation>텍스트를 이어 씁니다; 대화용으로 조정되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="133"/>
        <source>No models on this device yet. The Catalog tab suggests models that fit your devices.</source>
        <translation>이 기기에는 아직 모델이 없습니다. 카탈로그 탭에서 기기에 맞는 모델을 추천합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>yes</source>
        <translation>있음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>no: continues text; not tuned for chat</source>
        <translation>없음: 텍스트를 이어 쓸 뿐, 대화용으로 조정되지 않았습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="160"/>
        <source>Architecture</source>
        <translation>아키텍처</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="161"/>
        <source>Parameters</source>
        <translation>매개변수</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="162"/>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="163"/>
        <source>Quantization</source>
        <translation>양자화</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="164"/>
        <source>Layers</source>
        <translation>레이어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="167"/>
        <source>%1 a layer, %2 for each token</source>
        <translation>레이어당 %1개, 토큰마다 %2개</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="168"/>
        <source>Experts</source>
        <translation>전문가</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="170"/>
        <source>Context length</source>
        <translation>컨텍스트 길이</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>Licence</source>
        <translation>라이선스</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="171"/>
        <source>not stated in the file</source>
        <translation>파일에 명시되지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="172"/>
        <source>Chat template</source>
        <translation>대화 템플릿</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="173"/>
        <source>File</source>
        <translation>파일</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="192"/>
        <source>Delete %1 from this device?</source>
        <translation>이 기기에서 %1을(를) 삭제할까요?</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>Delete model</source>
        <translation>모델 삭제</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="199"/>
        <source>Deleted %1</source>
        <translation>%1 삭제됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="205"/>
        <source>Import an MLX model folder</source>
        <translation>MLX 모델 폴더 가져오기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>Import a model</source>
        <translation>모델 가져오기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="212"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 모델 (*.gguf);;모든 파일 (*)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="216"/>
        <source>Checking %1…</source>
        <translation>%1 확인 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="219"/>
        <source>%1 was not imported: %2</source>
        <translation>%1을(를) 가져오지 못했습니다: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="224"/>
        <source>Imported %1</source>
        <translation>%1 가져옴</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="235"/>
        <location filename="../app/hearth/ui/models_page.py" line="336"/>
        <source>Download</source>
        <translation>다운로드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="260"/>
        <source>Instruct models from small to 70B class. Each says whether it fits this device, your paired devices together, or neither.</source>
        <translation>작은 모델부터 70B급까지의 지시 모델입니다. 각 모델이 이 기기에 맞는지, 페어링된 기기를 합쳐야 맞는지, 어디에도 맞지 않는지 표시합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="272"/>
        <source>MoE</source>
        <translation>MoE</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="276"/>
        <source>pools well</source>
        <translation>나눠 쓰기 좋음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="284"/>
        <source>mixture of experts: %1 B read a token</source>
        <translation>전문가 혼합: 토큰당 %1B 읽음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="287"/>
        <source>calls tools</source>
        <translation>도구 호출 가능</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="289"/>
        <source>suits pooling</source>
        <translation>풀에 적합</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="290"/>
        <source>licence %1</source>
        <translation>라이선스 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="291"/>
        <source>context %1</source>
        <translation>컨텍스트 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="300"/>
        <source>Asking the hub for %1…</source>
        <translation>허브에서 %1 확인 중…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="304"/>
        <source>%n layers</source>
        <translation>
            <numerusform>레이어 %n개</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="320"/>
        <source>Welcome to Hearth. Start with a model: those marked &quot;fits this device&quot; run here alone, the others need your paired devices. Small ones download in minutes.</source>
        <translation>Hearth에 오신 것을 환영합니다. 먼저 모델을 고르세요. &quot;이 기기에서 실행 가능&quot;으로 표시된 모델은 이 기기 혼자 실행하고, 나머지는 페어링된 기기가 필요합니다. 작은 모델은 몇 분이면 받을 수 있습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="329"/>
        <source>Search GGUF models on Hugging Face, e.g. &quot;qwen 7b&quot;</source>
        <translation>Hugging Face에서 GGUF 모델 검색 (예: &quot;qwen 7b&quot;)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="330"/>
        <source>Search text</source>
        <translation>검색어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="332"/>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="335"/>
        <source>Search results</source>
        <translation>검색 결과</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="357"/>
        <source>Searching the hub for %1…</source>
        <translation>허브에서 %1 검색 중…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="381"/>
        <source>%n model file found</source>
        <translation>
            <numerusform>모델 파일 %n개를 찾았습니다</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="383"/>
        <source>%n model files found</source>
        <translation>
            <numerusform>모델 파일 %n개를 찾았습니다</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="406"/>
        <source>Downloaded %1. Next: Plan and chat, beside it on the Downloads tab.</source>
        <translation>%1 다운로드를 마쳤습니다. 다음: 다운로드 탭에서 옆의 &apos;계획하고 대화하기&apos;를 누르세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="412"/>
        <source>%1 stopped: %2</source>
        <translation>%1 중단됨: %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="394"/>
        <source>Downloading %1</source>
        <translation>%1 다운로드 중</translation>
    </message>
</context>
<context>
    <name>OtherAppsBox</name>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="27"/>
        <source>Other apps</source>
        <translation>다른 앱</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="30"/>
        <source>Let apps on this device use the loaded model (OpenAI-compatible API)</source>
        <translation>이 기기의 앱이 불러온 모델을 사용하도록 허용 (OpenAI 호환 API)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="32"/>
        <source>Also let other devices on the network use it (they need the key)</source>
        <translation>네트워크의 다른 기기도 사용하도록 허용 (키 필요)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="36"/>
        <source>none (web pages may not call it)</source>
        <translation>없음 (웹 페이지는 호출할 수 없음)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="37"/>
        <source>Keep other apps&apos; conversations in the chat history</source>
        <translation>다른 앱의 대화를 채팅 기록에 보관</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="38"/>
        <source>Also answer apps that speak only Ollama&apos;s API</source>
        <translation>Ollama API만 지원하는 앱에도 응답</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="41"/>
        <location filename="../app/hearth/ui/other_apps.py" line="95"/>
        <source>Ollama API port</source>
        <translation>Ollama API 포트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="43"/>
        <source>Load another model of the library when an app asks for it</source>
        <translation>앱이 요청하면 라이브러리의 다른 모델을 불러오기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="44"/>
        <source>Also when that model needs other devices</source>
        <translation>그 모델에 다른 기기가 필요해도</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="51"/>
        <source>Only to a paired device that offers the same model file; the request and its answer cross the paired devices&apos; encrypted channel.</source>
        <translation>같은 모델 파일을 제공하는 페어링된 기기로만 보냅니다. 요청과 답은 페어링된 기기 사이의 암호화된 채널로 오갑니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="66"/>
        <source>Show</source>
        <translation>보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="71"/>
        <source>Copy key</source>
        <translation>키 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="73"/>
        <source>New key</source>
        <translation>새 키</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="78"/>
        <source>Copy example</source>
        <translation>예시 복사</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="80"/>
        <source>Apply</source>
        <translation>적용</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="93"/>
        <source>Port</source>
        <translation>포트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="96"/>
        <source>Web pages allowed (origins, comma-separated)</source>
        <translation>허용된 웹 페이지 (출처, 쉼표로 구분)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="102"/>
        <source>Address</source>
        <translation>주소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="65"/>
        <location filename="../app/hearth/ui/other_apps.py" line="104"/>
        <source>Key</source>
        <translation>키</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="47"/>
        <source>Send apps&apos; requests to a paired device when the model here is busy</source>
        <translation>여기의 모델이 바쁠 때 앱의 요청을 페어링된 기기로 보내기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="103"/>
        <source>Ollama API</source>
        <translation>Ollama API</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="105"/>
        <source>Try it</source>
        <translation>사용해 보기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="130"/>
        <location filename="../app/hearth/ui/other_apps.py" line="138"/>
        <source>Not listening: %1</source>
        <translation>수신 대기 안 함: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="132"/>
        <source>%1 (this device only)</source>
        <translation>%1 (이 기기만)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="135"/>
        <location filename="../app/hearth/ui/other_apps.py" line="140"/>
        <source>Off</source>
        <translation>꺼짐</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="156"/>
        <source>Saved.</source>
        <translation>저장됨.</translation>
    </message>
</context>
<context>
    <name>PairDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="27"/>
        <source>Pair with %1</source>
        <translation>%1과(와) 페어링</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="28"/>
        <source>Asking %1… A code appears on that device.</source>
        <translation>%1에 요청 중… 그 기기에 코드가 표시됩니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="31"/>
        <source>6-digit code</source>
        <translation>6자리 코드</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="39"/>
        <source>Pair</source>
        <translation>페어링</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="56"/>
        <source>Type the code shown on %1.</source>
        <translation>%1에 표시된 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="67"/>
        <source>Checking the code…</source>
        <translation>코드 확인 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="75"/>
        <source>Paired with %1.</source>
        <translation>%1과(와) 페어링되었습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="81"/>
        <source>Pairing failed: %1</source>
        <translation>페어링 실패: %1</translation>
    </message>
</context>
<context>
    <name>PlannerPage</name>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="85"/>
        <source>Get a model</source>
        <translation>모델 받기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="93"/>
        <source>Auto plan</source>
        <translation>자동 계획</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="95"/>
        <source>Load</source>
        <translation>불러오기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="97"/>
        <source>Use its GGUF</source>
        <translation>GGUF 버전 쓰기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="98"/>
        <source>The same model as GGUF, from this device&apos;s library: it pools</source>
        <translation>이 기기 라이브러리에 있는 같은 모델의 GGUF 버전: 여러 기기에 나눠 돌릴 수 있습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="101"/>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="125"/>
        <location filename="../app/hearth/ui/planner_page.py" line="128"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="126"/>
        <location filename="../app/hearth/ui/planner_page.py" line="131"/>
        <source>Context</source>
        <translation>컨텍스트</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="127"/>
        <source>Layers of the model</source>
        <translation>모델의 레이어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="250"/>
        <source>%1 left. The plan below uses the devices that are left: Load to go on.</source>
        <translation>%1 기기가 빠졌습니다. 아래 계획은 남은 기기만 씁니다. 계속하려면 불러오기를 누르세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="253"/>
        <source>A faster plan with the devices that joined.</source>
        <translation>새로 들어온 기기를 쓴 더 빠른 계획입니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="311"/>
        <source>No model yet: download or import one on the Models page.</source>
        <translation>아직 모델이 없습니다. 모델 페이지에서 .gguf 파일을 받거나 가져오세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="317"/>
        <source>%1 layers</source>
        <translation>레이어 %1개</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="319"/>
        <source>context %1</source>
        <translation>컨텍스트 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="346"/>
        <source>%1 (this device)</source>
        <translation>%1 (이 기기)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="256"/>
        <source>MLX models run on this Mac alone; to pool this model over your devices, use its GGUF.</source>
        <translation>MLX 모델은 이 Mac에서만 실행됩니다. 여러 기기에 나눠 돌리려면 이 모델의 GGUF를 쓰세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="383"/>
        <source>predicted %1 tokens/s</source>
        <translation>예상 초당 %1 토큰</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="386"/>
        <source>memory as llama.cpp sizes it</source>
        <translation>메모리는 llama.cpp 계산 기준</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="389"/>
        <source>last measured %1 tokens/s</source>
        <translation>최근 측정 %1 토큰/초</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="393"/>
        <source>A device would run out of memory</source>
        <translation>메모리가 부족해지는 기기가 있습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="419"/>
        <location filename="../app/hearth/ui/planner_page.py" line="423"/>
        <source>%1 reads %2/s</source>
        <translation>%1 읽기 %2/초</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="421"/>
        <location filename="../app/hearth/ui/planner_page.py" line="425"/>
        <source>%1 at an assumed speed (not probed yet)</source>
        <translation>%1 가정한 속도(아직 측정 안 함)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="400"/>
        <source>1 answer at a time at %1 tokens</source>
        <translation>한 번에 답변 1개, %1 토큰</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/planner_page.py" line="401"/>
        <source>%n answers at once at %1 tokens each</source>
        <translation>
            <numerusform>한 번에 답변 %n개, 각각 %1 토큰</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="429"/>
        <source>%1 ms a token over the network</source>
        <translation>네트워크로 토큰당 %1ms</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="431"/>
        <source>Predicted from: %1</source>
        <translation>예측 근거: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="448"/>
        <source>%1 · shares the RAM</source>
        <translation>%1 · RAM 공유</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="449"/>
        <source>%1 · GPU memory</source>
        <translation>%1 · GPU 메모리</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="451"/>
        <source>CPU · RAM</source>
        <translation>CPU · RAM</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="454"/>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="458"/>
        <source>%1 would need %2 but has %3: over by %4</source>
        <translation>%1에는 %2이(가) 필요하지만 %3만 있습니다: %4 초과</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="239"/>
        <source>Loading…</source>
        <translation>불러오는 중…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="241"/>
        <source>Loaded on %1</source>
        <translation>%1에 불러옴</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="243"/>
        <source>Could not load: %1</source>
        <translation>불러오지 못했습니다: %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="245"/>
        <source>Loading cancelled</source>
        <translation>불러오기 취소됨</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="45"/>
        <source>As the system</source>
        <translation>시스템 설정대로</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="46"/>
        <source>Light</source>
        <translation>밝게</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="47"/>
        <source>Dark</source>
        <translation>어둡게</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="52"/>
        <source>Let paired devices use this device&apos;s compute</source>
        <translation>페어링된 기기가 이 기기의 연산 자원을 쓰도록 허용</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="59"/>
        <source>half of this device&apos;s memory</source>
        <translation>이 기기 메모리의 절반</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="63"/>
        <source>each GPU&apos;s memory less headroom</source>
        <translation>각 GPU의 메모리에서 여유분을 뺀 값</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="66"/>
        <source>all cores</source>
        <translation>모든 코어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="68"/>
        <source>When a device of the plan leaves, load the best plan over the devices left</source>
        <translation>계획에 든 기기가 빠지면 남은 기기로 가장 좋은 계획을 불러오기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="72"/>
        <source>Answer paired devices&apos; apps when their model is busy</source>
        <translation>페어링된 기기의 모델이 바쁠 때 그 기기의 앱에 답하기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="75"/>
        <source>With the model loaded here, when it is the file theirs is, and only into a place free at that moment: this window and this device&apos;s apps never wait behind them.</source>
        <translation>여기에 로드된 모델이 그 기기의 것과 같은 파일일 때, 그 순간 비어 있는 자리에만 답합니다. 이 창과 이 기기의 앱은 그 뒤에서 기다리지 않습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="82"/>
        <source>With nothing loaded here, load the same model from this library for them</source>
        <translation>여기에 아무것도 로드되지 않았을 때 이 라이브러리의 같은 모델을 로드해 답하기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="86"/>
        <source>Only while nothing is loaded or loading here and nothing is lent to a paired device. The model takes this device&apos;s memory, and is unloaded again after 5 minutes without answers, unless this window&apos;s chat answers with it.</source>
        <translation>여기에 로드되었거나 로드 중인 것이 없고 페어링된 기기에 빌려준 것도 없을 때만 그렇게 합니다. 모델은 이 기기의 메모리를 차지하며, 5분 동안 답이 없으면 다시 언로드됩니다. 단, 이 창의 채팅이 그 모델로 답했다면 남습니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="95"/>
        <source>Apply</source>
        <translation>적용</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="100"/>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="101"/>
        <source>Theme</source>
        <translation>테마</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="104"/>
        <source>Memory cap</source>
        <translation>메모리 한도</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="105"/>
        <source>GPU memory cap</source>
        <translation>GPU 메모리 한도</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="106"/>
        <source>Thread cap</source>
        <translation>스레드 한도</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="112"/>
        <source>Guess tokens ahead</source>
        <translation>토큰 미리 추측</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="114"/>
        <source>As many as memory allows</source>
        <translation>메모리가 허용하는 만큼</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="120"/>
        <source>How many answers the model gives together, to this window and other apps: each one holds a context of its own in memory. Applies from the next load.</source>
        <translation>모델이 이 창과 다른 앱에 동시에 하는 답변 수: 각 답변은 메모리에 자신의 컨텍스트를 가집니다. 다음 로드부터 적용됩니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="125"/>
        <source>Answers at once</source>
        <translation>동시 답변 수</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="159"/>
        <source>Not isolated: other accounts on this computer can reach the workers it runs for paired devices (%1).</source>
        <translation>격리되지 않음: 이 컴퓨터의 다른 계정이 페어링된 기기를 위해 실행하는 작업 프로세스에 접근할 수 있습니다(%1).</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="179"/>
        <source>Saved.</source>
        <translation>저장했습니다.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="40"/>
        <source>Donate compute</source>
        <translation>연산 자원 공유</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="41"/>
        <source>Open Hearth</source>
        <translation>Hearth 열기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="42"/>
        <source>Quit</source>
        <translation>종료</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="62"/>
        <source>Not donating</source>
        <translation>공유하지 않음</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="63"/>
        <source>Donating: ready for paired devices</source>
        <translation>공유 중: 페어링된 기기를 위해 준비됨</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="64"/>
        <source>Donating: a paired device is using this one</source>
        <translation>공유 중: 페어링된 기기가 이 기기를 사용하고 있음</translation>
    </message>
</context>
<context>
    <name>Welcome</name>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="37"/>
        <source>Add another device</source>
        <translation>다른 기기 추가</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="39"/>
        <source>Choose a model</source>
        <translation>모델 고르기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="41"/>
        <source>Skip</source>
        <translation>건너뛰기</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="42"/>
        <source>Hide this guide; it does not come back</source>
        <translation>이 안내를 숨깁니다. 다시 나타나지 않습니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="58"/>
        <source>Welcome to Hearth</source>
        <translation>Hearth에 오신 것을 환영합니다</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="65"/>
        <source>Paired with %1. Choose a model: Hearth plans it over the devices you have.</source>
        <translation>%1와(과) 페어링했습니다. 모델을 고르세요. Hearth가 가진 기기에 나눠 계획합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="72"/>
        <source>Hearth runs AI models on the computers in your home and pools them when one is not enough. Nothing you type leaves your home. Start with this device alone, or add another one first: it needs Hearth running too.</source>
        <translation>Hearth는 집에 있는 컴퓨터에서 AI 모델을 돌리고, 한 대로 부족하면 여러 대를 합칩니다. 입력한 내용은 집 밖으로 나가지 않습니다. 이 기기 하나로 시작하거나 다른 기기를 먼저 추가하세요. 그 기기에도 Hearth가 실행 중이어야 합니다.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="80"/>
        <source>Pick a model on the Catalog tab: those marked &quot;fits this device&quot; run here alone, the others need paired devices. Download it, then Plan and chat.</source>
        <translation>카탈로그 탭에서 모델을 고르세요. &quot;이 기기에서 실행 가능&quot; 표시가 있는 모델은 이 기기 하나로 돌아가고, 나머지는 페어링한 기기가 필요합니다. 내려받은 뒤 &quot;계획 후 대화&quot;를 누르세요.</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/welcome.py" line="99"/>
        <source>This device: %1 · %2 free · %3</source>
        <translation>이 기기: %1 · 여유 %2 · %3</translation>
    </message>
</context>
</TS>
